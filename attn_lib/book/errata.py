"""Where the original notes (the notebook this book grew from) go wrong.

Each entry says what the notes do, what the paper (or working code) does, and why it
matters; the book's chapters cite entries by ``key`` and its appendix renders the whole list
with :func:`errata_table`. Where the notes' prose most likely slipped (a wrong character, not
a wrong idea), the entry says so in one line. Settings the notes share with a paper or with
its authors' released code are not errata: cSE's r = 2 (Roy et al.'s code,
``reduction_ratio=2``) and bias-free layers in cSE, sSE and CBAM (SE's TPAMI ablation
removes the excitation's biases on ResNets; the sSE and CBAM equations write none). The
module docstrings say which source each of attn_lib's choices follows.
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
    Erratum("se-suppress", "scse",
            "Prose: scSE 'enhances meaningful features and raises (提高) meaningless ones'.",
            "Roy et al. recalibrate 'to boost meaningful features, while suppressing weak ones'.",
            "Most likely a slip: 提高 (raise) written where 抑制 (suppress) was meant."),
    Erratum("layout-nchw", "general",
            "Docstrings label tensors [bs, c, w, h].",
            "PyTorch's layout is (N, C, H, W): height before width.",
            "Swapping H and W is harmless for square inputs and wrong for every other shape, "
            "e.g. when a spatial map is drawn over an image."),
    Erratum("cbam-kernel", "cbam",
            "CBAM's spatial gate uses a 3×3 convolution.",
            "CBAM uses a 7×7 convolution; the paper's ablation finds 7 better than 3.",
            "Each pixel's gate then sees a 3×3 instead of a 7×7 neighbourhood of pooled features."),
    Erratum("cbam-global-pool", "cbam",
            "Prose: the spatial module applies 'global pooling and average pooling' "
            "(全局池化和平均池化).",
            "Max and mean across channels at each pixel, as the paper and the notes' own code "
            "(torch.max and torch.mean with dim=1) do.",
            "Most likely a slip: 全局 (global) written where 最大 (max) was meant; the code is "
            "right."),
    Erratum("bam-channel-se", "bam",
            "Prose: the channel branch 'is the same as SE' (与SE相同); the two branches are "
            "'combined' (结合), then sigmoid, multiply by the input, residual add.",
            "The order is right, but M_c = BN(MLP(AvgPool(F))) ends in batch norm, not a "
            "sigmoid: a logit, added to M_s before the one sigmoid. The paper combines by sum "
            "(best in its ablation); the authors' code multiplies, 1 + σ(M_c · M_s).",
            "An SE block in its place would squash M_c before the combination, and without the "
            "batch norm M_c and M_s sit on unrelated scales; sum and product give different "
            "gates (attn_lib's BAM(fusion=...))."),
    Erratum("bam-no-max", "bam",
            "Prose: BAM, like CBAM, attends to the max- and average-pooled features "
            "(注意在max和avg这两个特征上面).",
            "BAM has no max pooling: its channel branch average-pools, M_c = BN(MLP(AvgPool(F))), "
            "and its spatial branch convolves F itself (the authors' ChannelGate calls only "
            "F.avg_pool2d).",
            "Max-pooled descriptors are CBAM's addition; a BAM given them is a different module "
            "from the one the paper evaluates."),
    Erratum("bam-spatial", "bam",
            "Prose: the spatial branch, 'like a ResNet', reduces the channels, applies a 3×3 "
            "convolution and becomes one feature map.",
            "The two 3×3 convolutions are dilated (d = 4) to enlarge the receptive field cheaply; "
            "the branch ends in one map M_s (N, 1, H, W).",
            "Without dilation the branch sees far less context, the reason the paper adds it."),
    Erratum("sk-inplace", "sk",
            "SKConv stacks its branches with conv(x).unsqueeze_(1), an in-place change of each "
            "branch's ReLU output.",
            "The branch outputs U_m must stay as autograd saved them: ReLU keeps its output for "
            "backward. An out-of-place .unsqueeze(1) (or torch.stack) does that.",
            "Forward runs, so the notes' shape check passes, but the first backward raises "
            "'one of the variables needed for gradient computation has been modified by an "
            "inplace operation': the module cannot be trained. The notes' ReLU(inplace=False) "
            "does not help."),
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
    Erratum("eca-cross-channel", "eca",
            "Prose: the earlier modules add no fusion along the channel direction "
            "(之前的注意力都没有加入到通道方向上的融合).",
            "SE's two fully connected layers already mix all C channels: every gate depends on "
            "every channel. ECA makes the interaction local (k neighbours) and drops SE's "
            "dimensionality reduction.",
            "What ECA changes is the form of the interaction, not its presence: 'avoiding "
            "dimensionality reduction is important ... and appropriate cross-channel interaction "
            "can preserve performance' (ECA-Net)."),
)


def errata_for(mechanism: str) -> list[Erratum]:
    """The entries about one registered mechanism (or "general")."""
    return [e for e in ERRATA if e.mechanism == mechanism]


class MarkdownTable(str):
    """A str of Markdown that Jupyter renders as a table (and prints as its source)."""

    def _repr_markdown_(self) -> str:
        return str(self)


# How the appendix's table names each mechanism: the reader's names, not the registry's keys.
_LABELS = {"general": "all", "se": "cSE", "sse": "sSE", "scse": "scSE", "cbam": "CBAM",
           "bam": "BAM", "sk": "SK", "eca": "ECA"}


def errata_table(mechanism: str | None = None) -> MarkdownTable:
    """A Markdown table of the entries: all of them, with a column naming each mechanism as
    readers do ("cSE", "CBAM", ...), or one mechanism's, for its chapter, without it."""
    rows = ERRATA if mechanism is None else errata_for(mechanism)
    lines = ["| The notes | The paper | Why it matters |", "|---|---|---|"]
    if mechanism is None:
        lines = ["| | " + lines[0][2:], "|---" + lines[1]]
    for e in rows:
        fields = (e.notes, e.paper, e.why)
        if mechanism is None:
            fields = (_LABELS.get(e.mechanism, e.mechanism), *fields)
        # A bare "|" (as in ψ's |t|_odd) would end the cell.
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in fields) + " |")
    return MarkdownTable("\n".join(lines))
