"""Tests for attn_lib.lab.data: sample photographs and the procedural shapes dataset."""
import socket
import time

import pytest
import torch
import torch.nn.functional as F

from attn_lib.lab import data
from attn_lib.lab.data import CLASSES, SAMPLE_IMAGES, load_sample_image, make_shapes, render_scale_sweep

K = len(CLASSES)


# ---------------------------------------------------------------- photographs

@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a socket fails the test: photos must come from installed files."""
    def refuse(*args, **kwargs):
        raise AssertionError("load_sample_image tried to use the network")
    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.parametrize("name", SAMPLE_IMAGES)
def test_sample_image_shape_and_range(name, no_network):
    img = load_sample_image(name, size=96)
    assert img.shape == (3, 96, 96) and img.dtype == torch.float32
    assert 0 <= img.min() and img.max() <= 1
    assert img.std() > 0.05, "a real photo has contrast"
    assert (img[0] - img[1]).abs().mean() > 0.01, "colour, not grey"


def test_sample_image_default_size_and_determinism():
    a, b = load_sample_image("grace_hopper"), load_sample_image("grace_hopper")
    assert a.shape == (3, 224, 224) and torch.equal(a, b)


def test_unknown_sample_image_lists_valid_names():
    with pytest.raises(ValueError, match="unknown sample image 'lena'.*grace_hopper"):
        load_sample_image("lena")


def test_sample_image_bad_size():
    with pytest.raises(ValueError, match="size must be >= 1, got 0"):
        load_sample_image("grace_hopper", size=0)


def test_missing_provider_package_says_what_to_install(monkeypatch):
    monkeypatch.setitem(data._PHOTOS, "ghost", ("no_such_pkg_xyz", "a.png", "no-such-dist"))
    with pytest.raises(ModuleNotFoundError, match="pip install no-such-dist"):
        load_sample_image("ghost")


# ---------------------------------------------------------------- shapes: contract

def test_shapes_types_and_ranges():
    b = make_shapes(50, image_size=48, seed=1, size_range=(0.3, 0.5))
    assert len(b) == 50
    assert b.images.shape == (50, 3, 48, 48) and b.images.dtype == torch.float32
    assert b.labels.shape == (50,) and b.labels.dtype == torch.int64
    assert b.masks.shape == (50, 48, 48) and b.masks.dtype == torch.bool
    assert b.sizes.shape == (50,) and b.centers.shape == (50, 2)
    assert b.images.min() >= 0 and b.images.max() <= 1
    assert b.labels.min() >= 0 and b.labels.max() < K
    assert (b.sizes >= 0.3 * 48 - 1e-4).all() and (b.sizes <= 0.5 * 48 + 1e-4).all()


def test_masks_nonempty_inside_circumscribed_circle_and_image():
    b = make_shapes(200, seed=2)
    assert (b.masks.sum((1, 2)) > 0).all()
    yy, xx = torch.meshgrid(torch.arange(64.0), torch.arange(64.0), indexing="ij")
    dist = torch.sqrt((yy - b.centers[:, 0, None, None]) ** 2 + (xx - b.centers[:, 1, None, None]) ** 2)
    assert (dist[b.masks] <= (b.sizes[:, None, None] / 2).expand_as(dist)[b.masks] + 1e-4).all()
    # The circumscribed circle fits the image, so no object is cut by the border.
    r = b.sizes / 2
    assert (b.centers >= r[:, None] - 0.5).all() and (b.centers <= 63.5 - r[:, None]).all()


def test_determinism_and_no_global_rng():
    torch.manual_seed(123)
    state = torch.random.get_rng_state()
    threads = torch.get_num_threads()
    a, b = make_shapes(40, seed=7), make_shapes(40, seed=7)
    assert torch.equal(torch.random.get_rng_state(), state), "global RNG must not be touched"
    assert torch.get_num_threads() == threads
    for field in ("images", "labels", "masks", "sizes", "centers"):
        assert torch.equal(getattr(a, field), getattr(b, field)), field
    c = make_shapes(40, seed=8)
    assert not torch.equal(a.images, c.images) and not torch.equal(a.centers, c.centers)


def test_same_seed_same_objects_at_any_clutter_or_texture():
    base = make_shapes(40, seed=3, clutter=0.0)
    for other in (make_shapes(40, seed=3, clutter=2.0), make_shapes(40, seed=3, textures=False)):
        for field in ("labels", "masks", "sizes", "centers"):
            assert torch.equal(getattr(base, field), getattr(other, field)), field


def test_labels_balanced():
    counts = torch.bincount(make_shapes(1003, image_size=32, seed=3, size_range=(0.3, 0.6)).labels, minlength=K)
    assert counts.max() - counts.min() <= 1, counts


def test_mask_area_grows_with_size():
    b = make_shapes(500, seed=4, size_range=(0.2, 0.8), clutter=0.0)
    area = b.masks.sum((1, 2)).float()
    for k in range(K):
        sel = b.labels == k
        corr = torch.corrcoef(torch.stack([b.sizes[sel] ** 2, area[sel]]))[0, 1]
        assert corr > 0.98, (CLASSES[k], corr)


def test_clutter_zero_gives_flat_background_and_textures_off_gives_solid_objects():
    b = make_shapes(30, seed=5, clutter=0.0, textures=False)
    for img, m in zip(b.images, b.masks, strict=True):
        assert img[:, ~m].std(1).max() == 0 and img[:, m].std(1).max() == 0
    cluttered = make_shapes(30, seed=5, clutter=1.0)
    assert all(img[:, ~m].std(1).max() > 0.02 for img, m in zip(cluttered.images, cluttered.masks, strict=True))


def test_scale_sweep_changes_only_the_size():
    fr = [0.2, 0.3, 0.45, 0.6, 0.8]
    sw = render_scale_sweep("triangle", fr, seed=11)
    assert len(sw) == 5 and (sw.labels == CLASSES.index("triangle")).all()
    assert torch.allclose(sw.sizes, torch.tensor(fr) * 64)
    assert (sw.centers == sw.centers[0]).all()
    area = sw.masks.sum((1, 2))
    assert (area[1:] > area[:-1]).all(), area
    # Outside the objects' 2 px moats every pixel is the same in every image.
    union = F.max_pool2d(sw.masks.any(0)[None, None].float(), 5, 1, 2)[0, 0] > 0
    assert (sw.images[:, :, ~union] == sw.images[:1, :, ~union]).all()
    # Same colour: where a solid small and large object overlap, their pixels agree
    # (textures scale with the object, so only the solid version can be compared this way).
    solid = render_scale_sweep(2, fr, seed=11, textures=False)
    both = solid.masks[0] & solid.masks[-1]
    assert torch.equal(solid.images[0][:, both], solid.images[-1][:, both])
    assert torch.equal(render_scale_sweep(2, fr, seed=11).images, sw.images), "name and index agree"


def test_scale_sweep_is_a_scene_of_make_shapes_kind():
    sw = render_scale_sweep("ring", [0.5], seed=0, image_size=48, clutter=0.0)
    assert sw.images.shape == (1, 3, 48, 48) and sw.masks.any()


# ---------------------------------------------------------------- validation

@pytest.mark.parametrize("kwargs, message", [
    (dict(n=0), "n must be >= 1, got 0"),
    (dict(n=2.5), "n must be an int, got float"),
    (dict(n=True), "n must be an int, got bool"),
    (dict(n=4, image_size=8), "image_size must be >= 16, got 8"),
    (dict(n=4, seed=-1), "seed must be >= 0, got -1"),
    (dict(n=4, size_range=(0.6, 0.3)), r"0 < min <= max <= 1.*got \(0.6, 0.3\)"),
    (dict(n=4, size_range=(0.2, 1.5)), r"0 < min <= max <= 1.*got \(0.2, 1.5\)"),
    (dict(n=4, size_range=(0.0, 0.5)), r"0 < min <= max <= 1"),
    (dict(n=4, size_range=0.5), "size_range must be two numbers"),
    (dict(n=4, image_size=16, size_range=(0.2, 0.5)), r"smallest object would be 3.2 px.*at least 6 px"),
    (dict(n=4, clutter=-1), "clutter must be a finite number >= 0, got -1"),
    (dict(n=4, clutter=float("nan")), "clutter must be a finite number >= 0"),
    (dict(n=4, clutter="lots"), "clutter must be a finite number >= 0, got 'lots'"),
])
def test_make_shapes_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_shapes(**kwargs)


@pytest.mark.parametrize("args, message", [
    (("hexagon", [0.3]), "unknown class 'hexagon'; expected one of circle, square"),
    ((K, [0.3]), f"label must be in \\[0, {K - 1}\\], got {K}"),
    ((0, []), "fractions must hold at least one size"),
    ((0, 0.3), "fractions must be a sequence of numbers, got 0.3"),
    ((0, [0.3, 1.2]), r"fractions must satisfy 0 < min <= max <= 1"),
])
def test_scale_sweep_rejects_bad_arguments(args, message):
    with pytest.raises(ValueError, match=message):
        render_scale_sweep(*args)


# ---------------------------------------------------------------- learnable, not trivial

def _nearest_class_mean(train_x, train_y, test_x, test_y):
    means = torch.stack([train_x[train_y == k].mean(0) for k in range(K)])
    return (torch.cdist(test_x, means).argmin(1) == test_y).float().mean().item()


def _radial_profile(masks, centers, radii, bins=8):
    """Fraction of each ring around the center covered by the mask: a rotation-invariant silhouette."""
    s = masks.shape[-1]
    yy, xx = torch.meshgrid(torch.arange(s).float(), torch.arange(s).float(), indexing="ij")
    d = torch.sqrt((yy - centers[:, 0, None, None]) ** 2 + (xx - centers[:, 1, None, None]) ** 2)
    idx = (d / radii[:, None, None] * bins).long().clamp(max=bins).flatten(1)
    hit = torch.zeros(len(masks), bins + 1).scatter_add_(1, idx, masks.flatten(1).float())
    tot = torch.zeros(len(masks), bins + 1).scatter_add_(1, idx, torch.ones_like(idx, dtype=torch.float))
    return (hit / tot.clamp(min=1))[:, :bins]


def _blind_features(b, threshold=0.15):
    """Find the object without labels: pixels far from the median colour, their centroid and extent."""
    median = b.images.flatten(2).median(2).values[:, :, None, None]
    fg = (b.images - median).norm(dim=1) > threshold
    s = fg.shape[-1]
    yy, xx = torch.meshgrid(torch.arange(s).float(), torch.arange(s).float(), indexing="ij")
    area = fg.sum((1, 2)).clamp(min=1)
    cy, cx = (fg * yy).sum((1, 2)) / area, (fg * xx).sum((1, 2)) / area
    r = (torch.sqrt((yy - cy[:, None, None]) ** 2 + (xx - cx[:, None, None]) ** 2) * fg).amax((1, 2)).clamp(min=1)
    return fg, _radial_profile(fg, torch.stack([cy, cx], 1), r)


@pytest.fixture(scope="module")
def splits():
    return {c: (make_shapes(1000, seed=1, clutter=c), make_shapes(400, seed=2, clutter=c)) for c in (0.0, 1.0)}


def test_label_is_determined_by_the_object_silhouette(splits):
    """Learnable: given the true mask, a rotation-invariant profile names the class (measured 100%)."""
    train, test = splits[1.0]
    acc = _nearest_class_mean(_radial_profile(train.masks, train.centers, train.sizes / 2), train.labels,
                              _radial_profile(test.masks, test.centers, test.sizes / 2), test.labels)
    assert acc > 0.95, acc


def test_no_shortcut_through_pixels_colour_size_or_position(splits):
    """Raw pixels and nuisance statistics sit at chance (1/5; measured ~18%)."""
    train, test = splits[1.0]
    assert _nearest_class_mean(train.images.flatten(1), train.labels, test.images.flatten(1), test.labels) < 0.3
    nuisance = lambda b: torch.cat([b.images.mean((2, 3)), b.sizes[:, None] / 64, b.centers / 64], 1)  # noqa: E731
    assert _nearest_class_mean(nuisance(train), train.labels, nuisance(test), test.labels) < 0.3


def test_clutter_is_what_makes_it_hard(splits):
    """Background subtraction + silhouette profile is perfect without clutter, near chance with it.

    Measured: IoU of the found foreground with the object 1.00 -> ~0.41, accuracy 100% -> ~32%.
    """
    results = {}
    for c, (train, test) in splits.items():
        _, f_train = _blind_features(train)
        fg, f_test = _blind_features(test)
        iou = ((fg & test.masks).sum((1, 2)) / (fg | test.masks).sum((1, 2))).mean().item()
        results[c] = iou, _nearest_class_mean(f_train, train.labels, f_test, test.labels)
    assert results[0.0][0] > 0.95 and results[0.0][1] > 0.95, results
    assert results[1.0][0] < 0.6 and results[1.0][1] < 0.45, results


def test_speed_2000_images():
    """CPU time, not wall time: the budget must hold on a loaded CI machine (measured ~1.5 s)."""
    start = time.process_time()
    make_shapes(2000, seed=0)
    assert time.process_time() - start < 5.0
