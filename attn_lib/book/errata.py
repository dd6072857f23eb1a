"""Where the original notes (the notebook this book grew from) differ from the papers.

Each entry says what the notes do, what the paper does, and why it matters; the book's chapters
cite entries by ``key`` and its appendix renders the whole list with :func:`errata_table`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Erratum", "ERRATA", "errata_for", "errata_table"]


@dataclass(frozen=True)
class Erratum:
    key: str
    mechanism: str  # a registered name, or "general"
    notes: str  # what the original notes say or do
    paper: str  # what the paper says or does
    why: str  # why the difference matters


ERRATA: tuple[Erratum, ...] = (
    Erratum("se-no-relu", "se",
            "cSE stacks two 1×1 convolutions with nothing between them.",
            "SE puts a ReLU between the two fully connected layers.",
            "Without it the excitation W2·W1 is one linear map of rank C/r: the bottleneck can no "
            "longer learn non-linear dependencies between channels, the point of SE."),
    Erratum("se-no-bias", "se",
            "cSE's two convolutions have no bias and reduce by r = 2.",
            "SE's fully connected layers have biases and reduce by r = 16.",
            "A gate without bias is σ(0) = 0.5 for an all-zero descriptor and has 8× the parameters "
            "per block that the paper spends."),
    Erratum("se-suppress", "se",
            "Prose: scSE 'enhances meaningful features and raises (提高) meaningless ones'.",
            "The papers: recalibration emphasises informative features and suppresses less useful ones.",
            "SE's gate lies in (0, 1): it can only scale a feature down, so suppressing is how it "
            "recalibrates. (scSE's summed gates lie in (0, 2); even they never raise a feature the "
            "module judged meaningless.)"),
    Erratum("layout-nchw", "general",
            "Docstrings label tensors [bs, c, w, h].",
            "PyTorch's layout is (N, C, H, W): height before width.",
            "Swapping H and W is harmless for square inputs and wrong for every other shape, "
            "e.g. when a spatial map is drawn over an image."),
    Erratum("cbam-kernel", "cbam",
            "CBAM's spatial gate uses a 3×3 convolution.",
            "CBAM uses a 7×7 convolution; the paper's ablation finds 7 better than 3.",
            "Each pixel's gate then sees a 3×3 instead of a 7×7 neighbourhood of pooled features."),
    Erratum("cbam-mlp-bias", "cbam",
            "CBAM's shared MLP has no biases.",
            "CBAM's MLP is W1(δ(W0 z)) with biases, shared by the average- and max-pooled descriptors.",
            "Small in parameters, but it is not the module whose numbers the paper reports."),
    Erratum("cbam-global-pool", "cbam",
            "Prose: the spatial module applies 'global pooling' to each channel.",
            "The spatial module pools across channels at each pixel (mean and max over C), giving "
            "two H×W maps; global pooling over H×W is the channel module's.",
            "The two halves pool along different axes; confusing them hides what each gate can see."),
    Erratum("bam-channel-se", "bam",
            "Prose: BAM's channel branch 'is the same as SE'.",
            "BAM's channel branch produces logits M_c with batch norm, adds them to the spatial "
            "logits M_s and only then applies a sigmoid; the gate is used residually, F + F⊗M.",
            "SE multiplies by σ(·) directly; BAM's gate is 3-D (C×H×W) and can only amplify (1 + M ≥ 1)."),
    Erratum("bam-spatial", "bam",
            "Prose: the spatial branch compresses, applies 3×3 convolutions and expands 'like a ResNet'.",
            "The two 3×3 convolutions are dilated (d = 4) to enlarge the receptive field cheaply; "
            "the branch ends in one map M_s (N, 1, H, W).",
            "Without dilation the branch sees far less context, the reason the paper adds it."),
    Erratum("sk-padding", "sk",
            "SKConv pads its 3×3 branch by 0 and its 5×5 branch by 1.",
            "Every branch keeps the spatial size; the paper's 5×5 branch is a 3×3 with dilation 2.",
            "Both branches shrink the map by 2 pixels, so the block cannot sit in a residual unit "
            "(the shapes of x and V differ)."),
    Erratum("sk-squeeze", "sk",
            "SKConv's squeeze FC has no batch norm or ReLU and its width is always L.",
            "z = δ(B(W_s s)) with d = max(C/r, L), r = 16, L = 32.",
            "Without the non-linearity the per-branch logits are linear in s; with d = L always, "
            "wide layers (C = 1024 -> d should be 64) get too narrow a bottleneck."),
    Erratum("sk-groups", "sk",
            "SKConv's branches are dense convolutions.",
            "SKNet's branches are grouped (G = 32), as in ResNeXt.",
            "A dense 3×3 at C = 512 has 32× the weights of the grouped one: SKNet-50 would not be "
            "a 27.5 M-parameter network."),
    Erratum("eca-no-code", "eca",
            "Prose only: ECA 'fuses along the channel direction', no definition of the kernel size.",
            "ECA's 1-D convolution has an adaptive size k = ψ(C) = |(log2 C + 1)/2|_odd and no "
            "dimensionality reduction.",
            "The reduction of SE is exactly what ECA's ablation shows to hurt; k is the only "
            "hyper-parameter and it is derived from C."),
)


def errata_for(mechanism: str) -> list[Erratum]:
    """The entries about one registered mechanism (or "general")."""
    return [e for e in ERRATA if e.mechanism == mechanism]


class MarkdownTable(str):
    """A str of Markdown that Jupyter renders as a table (and prints as its source)."""

    def _repr_markdown_(self) -> str:
        return str(self)


def errata_table(mechanism: str | None = None) -> MarkdownTable:
    """A Markdown table of the entries (all of them, or one mechanism's); a notebook renders it."""
    rows = ERRATA if mechanism is None else errata_for(mechanism)
    lines = ["| | The notes | The paper | Why it matters |", "|---|---|---|---|"]
    lines += [f"| {e.mechanism} | {e.notes} | {e.paper} | {e.why} |" for e in rows]
    return MarkdownTable("\n".join(lines))
