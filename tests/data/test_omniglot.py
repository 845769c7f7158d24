"""Omniglot: the three input forms, their errors, the cache, fetching, the splits and the episodes.

Every fixture is built here (tiny random 105 x 105 binary drawings written as PNGs, zips,
folders, npz and csv); nothing depends on a real copy of Omniglot.
"""

import io
import re
import zipfile

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from PIL import Image

from amaml import Task
from amaml.data import (
    VINYALS_TEST,
    VINYALS_VAL,
    OmniglotImages,
    _omniglot,
    _omniglot_fetch,
    fetch_omniglot,
    load_omniglot,
    omniglot_split,
    omniglot_test_episodes,
    sample_episodes,
)

# (set, alphabet, first ID, characters): IDs are global, as in the official zips
LAYOUT = [("background", "Alpha", 1, 3), ("background", "Beta_(B)", 4, 2), ("evaluation", "Gamma", 6, 3)]
CHARACTERS = sum(n for *_, n in LAYOUT)
PAPER = np.random.default_rng(0).random((CHARACTERS, 20, 105, 105)) > 0.12  # True = white paper, as the PNGs


def png(paper: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(paper).save(buffer, format="PNG")  # a bool array is a mode "1" image, as the official PNGs
    return buffer.getvalue()


def members(s: str, truncate: str | None = None):
    """(name, bytes) of the official zip ``images_<s>.zip``, directories included."""
    top = f"images_{s}"
    yield f"{top}/", b""
    for set_, alphabet, first, count in LAYOUT:
        if set_ != s:
            continue
        for nn in range(1, count + 1):
            ident = first + nn - 1
            yield f"{top}/{alphabet}/character{nn:02d}/", b""
            for dd in range(1, 21):
                name = f"{top}/{alphabet}/character{nn:02d}/{ident:04d}_{dd:02d}.png"
                data = png(PAPER[ident - 1, dd - 1])
                yield name, data[: len(data) // 2] if name.endswith(truncate or "\0") else data


def zip_bytes(s: str, truncate: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members(s, truncate):
            archive.writestr(name, data)
    return buffer.getvalue()


def write_form(directory, form: str):
    directory.mkdir(parents=True, exist_ok=True)
    for s in ("background", "evaluation"):
        if form == "zip":
            (directory / f"images_{s}.zip").write_bytes(zip_bytes(s))
        elif form == "folder":
            for name, data in members(s):
                path = directory / name
                path.mkdir(parents=True, exist_ok=True) if name.endswith("/") else path.write_bytes(data)
        else:
            rows = [i for i, (set_, *_) in enumerate(LAYOUT) if set_ == s]
            first, last = LAYOUT[rows[0]][2] - 1, LAYOUT[rows[-1]][2] + LAYOUT[rows[-1]][3] - 1
            labels = np.repeat(np.arange(last - first)[:, None], 20, axis=1)
            np.savez_compressed(directory / f"images_{s}.npz", images=PAPER[first:last], labels=labels)
    if form == "npz":
        lines = [f"{s},{a},{f},{f + n - 1},{n}" for s, a, f, n in LAYOUT]
        (directory / "alphabets.csv").write_text("set,alphabet,first_id,last_id,characters\n" + "\n".join(lines) + "\n")
    return directory


def snapshot(directory):
    return {p: p.stat().st_mtime_ns for p in directory.rglob("*")}


@pytest.mark.parametrize("size", [28, 105])
def test_zip_folder_and_npz_forms_give_identical_images(tmp_path, size):
    loaded = {
        form: load_omniglot(write_form(tmp_path / form, form), size=size, cache_dir=tmp_path / f"cache-{form}")
        for form in ("zip", "folder", "npz")
    }
    for form in ("folder", "npz"):
        for field in ("images", "character_ids", "alphabets", "sets"):
            np.testing.assert_array_equal(getattr(loaded[form], field), getattr(loaded["zip"], field), err_msg=form)
    images = loaded["zip"]
    assert images.images.dtype == np.uint8 and images.images.shape == (CHARACTERS, 20, size, size)
    assert images.character_ids.tolist() == list(range(1, CHARACTERS + 1))
    assert images.alphabets.tolist() == ["Alpha"] * 3 + ["Beta_(B)"] * 2 + ["Gamma"] * 3
    assert images.sets.tolist() == ["background"] * 5 + ["evaluation"] * 3
    # MAML's preprocessing, then ink = 255: at 105 x 105 that is the drawing itself
    paper = Image.fromarray(PAPER[4, 7]).convert("L").resize((size, size), resample=Image.Resampling.LANCZOS)
    np.testing.assert_array_equal(images.images[4, 7], 255 - np.asarray(paper))
    if size == 105:
        np.testing.assert_array_equal(images.images, np.where(PAPER, 0, 255))
    assert "images_background.zip sha256 " in images.source_sha256 and "alphabets.csv" in loaded["npz"].source_sha256


def test_one_set_is_enough_and_a_zip_wins_over_its_folder(tmp_path):
    write_form(tmp_path, "folder")
    (tmp_path / "images_evaluation.zip").write_bytes(zip_bytes("evaluation"))
    (tmp_path / "images_background").rename(tmp_path / "elsewhere")
    images = load_omniglot(tmp_path, cache_dir=tmp_path.parent / "cache")
    assert images.sets.tolist() == ["evaluation"] * 3 and images.character_ids.tolist() == [6, 7, 8]
    assert images.source_sha256.startswith("images_evaluation.zip sha256")


def one_error(info):
    error = info.value  # one error, not a chain of them
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)
    return str(info.value)


@pytest.mark.parametrize(
    "damage,words",
    [
        (lambda d: (d / "images_background.zip").write_bytes(b"PK\x03\x04 not really"), ["images_background.zip"]),
        (lambda d: (d / "images_background.zip").write_bytes(zip_bytes("background")[:3000]), ["not a readable zip"]),
        (
            lambda d: (d / "images_evaluation.zip").write_bytes(zip_bytes("evaluation", truncate="0007_05.png")),
            ["images_evaluation.zip", "Gamma/character02/0007_05.png", "not a readable 105 x 105 PNG"],
        ),
    ],
)
def test_a_damaged_zip_or_png_is_one_error_naming_the_file(tmp_path, damage, words):
    write_form(tmp_path / "data", "zip")
    damage(tmp_path / "data")
    with pytest.raises(ValueError) as info:
        load_omniglot(tmp_path / "data", cache_dir=tmp_path / "cache")
    assert all(w in one_error(info) for w in words), str(info.value)


def test_a_truncated_png_in_a_folder_is_named(tmp_path):
    write_form(tmp_path / "data", "folder")
    path = tmp_path / "data/images_background/Alpha/character03/0003_20.png"
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(ValueError, match=r"0003_20\.png: not a readable 105 x 105 PNG"):
        load_omniglot(tmp_path / "data", cache_dir=tmp_path / "cache")


@pytest.mark.parametrize(
    "damage,words",
    [
        (lambda d: np.savez(d / "images_background.npz", images=PAPER[:5]), ["images_background.npz", "'labels'"]),
        (
            lambda d: np.savez(d / "images_evaluation.npz", images=PAPER[5:, :, :50], labels=np.zeros((3, 20), int)),
            ["images_evaluation.npz", "expected bool (N, 20, 105, 105)"],
        ),
        (lambda d: (d / "images_background.npz").write_bytes(b"\x93NUMPY garbage"), ["images_background.npz"]),
        (
            lambda d: (d / "alphabets.csv").write_text((d / "alphabets.csv").read_text().replace("4,5,2", "4,6,3")),
            ["images_background.npz holds 5 characters", "alphabets.csv cover 6"],
        ),
        (
            lambda d: (d / "alphabets.csv").write_text((d / "alphabets.csv").read_text().replace("4,5,2", "5,6,2")),
            ["alphabets.csv", "not contiguous"],
        ),
        (lambda d: (d / "alphabets.csv").unlink(), ["needs alphabets.csv"]),
    ],
)
def test_a_damaged_npz_or_csv_is_one_error_naming_the_file(tmp_path, damage, words):
    write_form(tmp_path / "data", "npz")
    damage(tmp_path / "data")
    with pytest.raises(ValueError) as info:
        load_omniglot(tmp_path / "data", cache_dir=tmp_path / "cache")
    assert all(w in str(info.value) for w in words), str(info.value)


def test_a_directory_without_omniglot_says_what_it_accepts_and_where_to_get_it(tmp_path):
    with pytest.raises(ValueError) as info:
        load_omniglot(tmp_path, cache_dir=tmp_path.parent / "cache")
    message = one_error(info)
    for words in ("images_background.zip", "images_evaluation/", "images_evaluation.npz", "alphabets.csv"):
        assert words in message
    assert _omniglot.URL.format("evaluation") in message and str(tmp_path / "images_background.zip") in message


def test_the_cache_is_written_outside_the_data_and_read_back(tmp_path, monkeypatch):
    data = write_form(tmp_path / "data", "npz")
    before = snapshot(data)
    first = load_omniglot(data, size=14, cache_dir=tmp_path / "cache")
    assert snapshot(data) == before  # nothing written beside the data
    (cached,) = (tmp_path / "cache").iterdir()
    assert cached.name.startswith("omniglot-14px-") and cached.suffix == ".npz"

    def no_decoding(*args):
        raise AssertionError("the sources were decoded again")

    monkeypatch.setattr(_omniglot, "_resize", no_decoding)
    second = load_omniglot(data, size=14, cache_dir=tmp_path / "cache")
    assert all(np.array_equal(a, b) for a, b in zip(first[:4], second[:4])) and second[4] == first[4]
    with pytest.raises(AssertionError, match="decoded again"):  # another size is another cache entry
        load_omniglot(data, size=12, cache_dir=tmp_path / "cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    with pytest.raises(AssertionError, match="decoded again"):  # the default cache is under XDG_CACHE_HOME
        load_omniglot(data, size=14)
    monkeypatch.undo()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    load_omniglot(data, size=14)
    assert [p.name for p in (tmp_path / "xdg/amaml/omniglot").iterdir()] == [cached.name]
    assert snapshot(data) == before


def test_fetch_failing_says_which_files_to_put_where(tmp_path, monkeypatch):
    def offline(url, timeout):
        raise OSError("no route to github.com")

    monkeypatch.setattr(_omniglot_fetch, "_download", offline)
    with pytest.raises(ValueError) as info:
        fetch_omniglot(tmp_path / "omniglot")
    message = one_error(info)
    assert "no route" in message and str(tmp_path / "omniglot" / "images_evaluation.zip") in message
    assert all(_omniglot.URL.format(s) in message for s in ("background", "evaluation"))
    assert not (tmp_path / "omniglot").exists() or not any((tmp_path / "omniglot").iterdir())


def test_fetch_writes_checked_zips_that_load(tmp_path, monkeypatch):
    monkeypatch.setattr(_omniglot_fetch, "_download", lambda url, timeout: zip_bytes(url.split("images_")[1][:-4]))
    with pytest.raises(ValueError, match=r"holds 5 characters, expected 964: not the official zip"):
        fetch_omniglot(tmp_path / "omniglot")
    assert not (tmp_path / "omniglot" / "images_background.zip").exists()
    monkeypatch.setitem(_omniglot_fetch.EXPECTED_CHARACTERS, "background", 5)
    monkeypatch.setitem(_omniglot_fetch.EXPECTED_CHARACTERS, "evaluation", 3)
    assert fetch_omniglot(tmp_path / "omniglot") == tmp_path / "omniglot"
    assert sorted(p.name for p in (tmp_path / "omniglot").iterdir()) == [
        "images_background.zip",
        "images_evaluation.zip",
    ]
    images = load_omniglot(tmp_path / "omniglot", cache_dir=tmp_path / "cache")
    assert images.character_ids.tolist() == list(range(1, 9))


# The 50 official alphabets in ID order, with their character counts (background, then evaluation).
OFFICIAL = """Arcadian 26, Armenian 41, Asomtavruli_(Georgian) 40, Balinese 24, Bengali 46,
Blackfoot_(Canadian_Aboriginal_Syllabics) 14, Braille 26, Cyrillic 33, Early_Aramaic 22, Syriac_(Estrangelo) 23,
Anglo-Saxon_Futhorc 29, Futurama 26, Grantha 43, Greek 24, Gujarati 48, Hebrew 22, Japanese_(hiragana) 52,
Inuktitut_(Canadian_Aboriginal_Syllabics) 16, Malay_(Jawi_-_Arabic) 40, Japanese_(katakana) 47, Korean 40, Latin 26,
Alphabet_of_the_Magi 20, Mkhedruli_(Georgian) 41, Burmese_(Myanmar) 34, N_Ko 33,
Ojibwe_(Canadian_Aboriginal_Syllabics) 14, Sanskrit 42, Tagalog 17, Tifinagh 55, Angelic 20,
Atemayar_Qelisayer 26, Atlantean 26, Aurek-Besh 26, Avesta 26,
Ge_ez 26, Glagolitic 45, Gurmukhi 45, Kannada 41, Keble 26, Malayalam 47, Manipuri 40, Mongolian 30,
Old_Church_Slavonic_(Cyrillic) 45, Oriya 46, Syriac_(Serto) 23, Sylheti 28, Tengwar 25, Tibetan 42, ULOG 26"""


def fake_omniglot(n_background=30):
    """The full 1623-character table with tiny 2 x 2 images whose first pixel is the character ID mod 256."""
    pairs = [entry.split() for entry in OFFICIAL.replace("\n", " ").split(", ")]
    alphabets = np.asarray([name for name, count in pairs for _ in range(int(count))])
    sets = np.asarray([s for k, (_, count) in enumerate(pairs) for s in [SETS[k >= n_background]] * int(count)])
    ids = np.arange(1, len(alphabets) + 1)
    images = np.zeros((len(ids), 20, 2, 2), np.uint8)
    images[:, :, 0, 0] = (ids % 256)[:, None]
    return OmniglotImages(images, ids, alphabets, sets, "synthetic")


SETS = ("background", "evaluation")


def check_partition(images, split):
    parts = [set(split.train_ids.tolist()), set(split.val_ids.tolist()), set(split.test_ids.tolist())]
    assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
    assert parts[0] | parts[1] | parts[2] == set(images.character_ids.tolist())
    for stored, ids in ((split.train, split.train_ids), (split.val, split.val_ids), (split.test, split.test_ids)):
        np.testing.assert_array_equal(stored, images.images[ids - 1])


def test_the_maml_split_is_1100_100_423_shuffled_by_the_seed():
    images = fake_omniglot()
    split = omniglot_split(images, "maml", seed=0)
    assert (len(split.train), len(split.val), len(split.test)) == (1100, 100, 423)
    check_partition(images, split)
    again, other = omniglot_split(images, "maml", seed=0), omniglot_split(images, "maml", seed=1)
    assert np.array_equal(again.train_ids, split.train_ids) and np.array_equal(again.test_ids, split.test_ids)
    assert not np.array_equal(other.train_ids, split.train_ids)
    np.testing.assert_array_equal(split.train_ids, np.random.default_rng(0).permutation(1623)[:1100] + 1)


@pytest.mark.parametrize("n,sizes", [(3, (1, 1, 1)), (8, (5, 1, 2)), (40, (27, 2, 11))])
def test_the_maml_split_scales_to_small_sets(n, sizes):
    images = OmniglotImages(*(a[:n] for a in fake_omniglot()[:4]), "synthetic")
    split = omniglot_split(images, "maml", seed=3)
    assert (len(split.train), len(split.val), len(split.test)) == sizes
    check_partition(images, split)
    with pytest.raises(ValueError, match="at least 3 characters"):
        omniglot_split(OmniglotImages(*(a[:2] for a in images[:4]), ""), "maml")
    with pytest.raises(ValueError, match="`protocol` must be 'maml' or 'alphabet'"):
        omniglot_split(images, "lake")


def test_the_alphabet_split_is_vinyals():
    images = fake_omniglot()
    split = omniglot_split(images, "alphabet", seed=5)
    assert (len(split.train), len(split.val), len(split.test)) == (1028, 172, 423)
    check_partition(images, split)
    alphabet_of = dict(zip(images.character_ids.tolist(), images.alphabets.tolist()))
    set_of = dict(zip(images.character_ids.tolist(), images.sets.tolist()))
    assert {alphabet_of[i] for i in split.val_ids} == set(VINYALS_VAL)
    assert {set_of[i] for i in split.val_ids} == {"background"} and {set_of[i] for i in split.test_ids} == {
        "evaluation"
    }
    assert {alphabet_of[i] for i in split.test_ids} == {*VINYALS_TEST, "Gurmukhi"}
    gurmukhi = [i for i in split.test_ids if alphabet_of[i] == "Gurmukhi"]
    assert gurmukhi == [1201, 1202, 1203, 1204]  # Gurmukhi/character42-45; 01-41 are meta-train
    assert sum(alphabet_of[i] == "Gurmukhi" for i in split.train_ids) == 41
    odd = images._replace(alphabets=np.where(images.alphabets == "Latin", "Klingon", images.alphabets))
    with pytest.raises(ValueError, match="'Klingon', which is not one of Omniglot's 50"):
        omniglot_split(odd, "alphabet")


STORED = np.random.default_rng(1).integers(0, 256, (6, 20, 5, 5), dtype=np.uint8)  # every drawing unique
WHERE = {np.rot90(STORED[c, d], k).tobytes(): (c, d, k) for c in range(6) for d in range(20) for k in range(4)}


def origins(x):
    """(character, drawing, quarter turns) of each image of a task's float inputs."""
    values = np.rint(np.asarray(x)[..., 0] * 255).astype(np.uint8)
    return [WHERE[image.tobytes()] for image in values]


@pytest.mark.parametrize("rotate,dtype", [(True, jnp.float32), (False, jnp.float64)])
def test_episodes_have_the_shapes_classes_and_drawings_they_promise(rotate, dtype):
    ways, shots, queries, batch = 5, 2, 3, 16
    tasks = sample_episodes(jnp.asarray(STORED), jax.random.key(0), batch, ways, shots, queries, rotate, dtype=dtype)
    assert isinstance(tasks, Task)
    assert tasks.support_x.shape == (batch, ways * shots, 5, 5, 1) and tasks.support_x.dtype == dtype
    assert tasks.query_x.shape == (batch, ways * queries, 5, 5, 1) and tasks.query_x.dtype == dtype
    assert tasks.support_y.dtype == tasks.query_y.dtype == jnp.int32
    turns, in_order = set(), 0
    for b in range(batch):
        np.testing.assert_array_equal(tasks.support_y[b], np.repeat(np.arange(ways), shots))
        np.testing.assert_array_equal(tasks.query_y[b], np.repeat(np.arange(ways), queries))
        support, query = origins(tasks.support_x[b]), origins(tasks.query_x[b])
        classes = []
        for label in range(ways):
            mine = support[label * shots : (label + 1) * shots] + query[label * queries : (label + 1) * queries]
            assert len({(c, k) for c, _, k in mine}) == 1  # one class: a character at one rotation
            assert len({d for _, d, _ in mine}) == shots + queries  # distinct drawings
            classes.append((mine[0][0], mine[0][2]))
            turns.add(mine[0][2])
        assert len(set(classes)) == ways
        in_order += classes == sorted(classes)
    assert turns == ({0, 1, 2, 3} if rotate else {0})
    assert in_order < batch  # labels are given to the classes in a random order
    query = np.asarray(tasks.query_x)
    np.testing.assert_array_equal(query, (np.rint(query * 255) / 255).astype(dtype))  # exactly uint8 / 255


def test_episodes_are_deterministic_in_the_key_jittable_and_chunked_alike():
    draw = lambda key: sample_episodes(STORED, key, 7, 3, 1, 2, True)
    first, again, other = draw(jax.random.key(3)), draw(jax.random.key(3)), draw(jax.random.key(4))
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not np.array_equal(first.support_x, other.support_x)
    jitted = jax.jit(sample_episodes, static_argnames=("batch", "ways", "shots", "queries", "rotate"))
    inside = jitted(jnp.asarray(STORED), jax.random.key(3), batch=7, ways=3, shots=1, queries=2, rotate=True)
    assert all(np.array_equal(a, b) for a, b in zip(first, inside))
    fixed = omniglot_test_episodes(STORED, 3, 7, 3, 1, 2, True, chunk=3)  # chunks of 3, 3 and a padded 1
    assert all(np.array_equal(a, b) for a, b in zip(first, fixed))
    with jax.enable_x64(False):  # the same episodes whether or not 64-bit types are enabled
        narrow = draw(jax.random.key(3))
    assert all(np.array_equal(a, b) for a, b in zip(first, narrow))


@pytest.mark.parametrize(
    "ways,shots,queries,rotate,words",
    [
        (25, 1, 1, True, "`ways` (25) exceeds the 24 classes of `characters` with rotations"),
        (7, 1, 1, False, "`ways` (7) exceeds the 6 classes of `characters`."),
        (2, 5, 16, True, "`shots` + `queries` (5 + 16) exceeds the 20 drawings"),
        (2, 0, 1, True, "`shots` must be a positive integer"),
    ],
)
def test_impossible_episodes_are_refused_before_tracing(ways, shots, queries, rotate, words):
    with pytest.raises(ValueError, match=re.escape(words)):
        sample_episodes(STORED, jax.random.key(0), 2, ways, shots, queries, rotate)
    with pytest.raises(ValueError, match="`characters` must be uint8"):
        sample_episodes(STORED.astype(np.float32), jax.random.key(0), 2, 2, 1, 1)
