"""Tests for bpviz.engine.datasets: built-in sets and CSV loading."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpviz.engine.datasets import (
    DATASET_LABELS,
    DATASET_NAMES,
    Dataset,
    DatasetError,
    load_csv,
    make_dataset,
)

GENERATED = ("circle", "xor", "gauss", "spiral", "plane", "multi_gauss", "sine")
CLASSIFICATION = ("circle", "xor", "gauss", "spiral", "xor4")
REGRESSION = ("plane", "multi_gauss", "sine", "lecture")
FIXED = ("xor4", "lecture")
ARRAYS = ("X_train", "Y_train", "X_test", "Y_test")


def all_rows(ds: Dataset) -> tuple[np.ndarray, np.ndarray]:
    return np.vstack([ds.X_train, ds.X_test]), np.vstack([ds.Y_train, ds.Y_test])


# ---------------------------------------------------------------------------
# Built-in datasets
# ---------------------------------------------------------------------------


def test_names_and_labels_cover_every_built_in():
    assert set(DATASET_NAMES) == set(GENERATED) | set(FIXED)
    assert len(set(DATASET_NAMES)) == len(DATASET_NAMES)
    assert list(DATASET_LABELS) == list(DATASET_NAMES)
    assert DATASET_LABELS["circle"] == "Circle (classification)"
    assert all(isinstance(label, str) and label for label in DATASET_LABELS.values())


@pytest.mark.parametrize("name", DATASET_NAMES)
def test_shapes_dtypes_and_names(name):
    ds = make_dataset(name, n_samples=50, noise=0.3, seed=3)
    assert ds.name == name
    n_in = 1 if name == "sine" else 2
    assert ds.X_train.shape[1] == ds.X_test.shape[1] == n_in == ds.n_inputs
    assert ds.Y_train.shape[1] == ds.Y_test.shape[1] == 1 == ds.n_outputs
    assert ds.X_train.shape[0] == ds.Y_train.shape[0] >= 1
    assert ds.X_test.shape[0] == ds.Y_test.shape[0]
    for field in ARRAYS:
        arr = getattr(ds, field)
        assert arr.dtype == np.float64 and arr.ndim == 2
        assert np.all(np.isfinite(arr))
    assert len(ds.input_names) == n_in and len(ds.output_names) == 1
    assert ds.task in ("classification", "regression")
    json.dumps(ds.params)  # must be JSON-serialisable


@pytest.mark.parametrize("name", GENERATED)
def test_split_sizes(name):
    ds = make_dataset(name, n_samples=101, test_fraction=0.2)
    assert ds.X_train.shape[0] + ds.X_test.shape[0] == 101
    assert ds.X_test.shape[0] == round(101 * 0.2)
    whole = make_dataset(name, n_samples=30, test_fraction=0.0)
    assert whole.X_train.shape[0] == 30 and whole.X_test.shape[0] == 0


@pytest.mark.parametrize("n, fraction", [(2, 0.9), (3, 0.9), (2, 0.5), (10, 0.9), (7, 0.33)])
def test_split_keeps_a_training_sample(n, fraction):
    ds = make_dataset("circle", n_samples=n, test_fraction=fraction)
    assert ds.X_train.shape[0] >= 1
    assert ds.X_train.shape[0] + ds.X_test.shape[0] == n


@pytest.mark.parametrize("name", GENERATED)
def test_split_is_a_partition_of_the_generated_points(name):
    full = make_dataset(name, n_samples=40, noise=0.5, test_fraction=0.0, seed=7)
    split = make_dataset(name, n_samples=40, noise=0.5, test_fraction=0.25, seed=7)
    # Same generated points, only redistributed (the split's shuffle differs).
    a = np.hstack(all_rows(full))
    b = np.hstack(all_rows(split))
    assert np.array_equal(np.unique(a, axis=0), np.unique(b, axis=0))


@pytest.mark.parametrize("name", DATASET_NAMES)
def test_same_seed_gives_identical_arrays(name):
    a = make_dataset(name, n_samples=80, noise=0.4, seed=11)
    b = make_dataset(name, n_samples=80, noise=0.4, seed=11)
    assert a == b
    for field in ARRAYS:
        assert getattr(a, field).tobytes() == getattr(b, field).tobytes()


@pytest.mark.parametrize("name", GENERATED)
def test_different_seed_gives_different_arrays(name):
    a = make_dataset(name, n_samples=80, noise=0.4, seed=1)
    b = make_dataset(name, n_samples=80, noise=0.4, seed=2)
    assert not np.array_equal(a.X_train, b.X_train)
    assert a != b


@pytest.mark.parametrize("name", GENERATED)
def test_noise_changes_the_data(name):
    clean = make_dataset(name, n_samples=200, noise=0.0, seed=5)
    noisy = make_dataset(name, n_samples=200, noise=1.0, seed=5)
    changed = [not np.array_equal(getattr(clean, f), getattr(noisy, f)) for f in ARRAYS]
    assert any(changed)


@pytest.mark.parametrize("name", ["circle", "xor", "plane", "multi_gauss"])
def test_label_noise_keeps_the_inputs(name):
    # Like Playground, these sets apply noise where the label is looked up.
    clean = make_dataset(name, n_samples=200, noise=0.0, seed=5)
    noisy = make_dataset(name, n_samples=200, noise=1.0, seed=5)
    assert np.array_equal(clean.X_train, noisy.X_train)
    assert not np.array_equal(clean.Y_train, noisy.Y_train)


def test_noise_free_labels_follow_the_geometry():
    X, Y = all_rows(make_dataset("circle", n_samples=300))
    assert np.array_equal(Y[:, 0], (np.hypot(X[:, 0], X[:, 1]) < 2.5).astype(float))
    X, Y = all_rows(make_dataset("xor", n_samples=300))
    assert np.array_equal(Y[:, 0], (X[:, 0] * X[:, 1] >= 0).astype(float))
    X, Y = all_rows(make_dataset("plane", n_samples=300))
    assert np.allclose(Y[:, 0], (X[:, 0] + X[:, 1] + 12) / 24)
    X, Y = all_rows(make_dataset("sine", n_samples=300))
    assert np.allclose(Y[:, 0], (np.sin(X[:, 0]) + 1) / 2)


@pytest.mark.parametrize("name", ["circle", "gauss", "spiral"])
def test_balanced_classes(name):
    _, Y = all_rows(make_dataset(name, n_samples=101))
    assert Y.sum() == 51


@pytest.mark.parametrize("name", DATASET_NAMES)
def test_arrays_are_read_only(name):
    ds = make_dataset(name, n_samples=20)
    for field in ARRAYS:
        arr = getattr(ds, field)
        assert not arr.flags.writeable
        with pytest.raises(ValueError):
            arr[...] = 0.0
    with pytest.raises(AttributeError):
        ds.name = "other"  # frozen


def test_dataset_copies_its_input_arrays():
    x = np.zeros((2, 1))
    ds = Dataset("t", x, x, x[:0], x[:0], "regression", ("a",), ("b",), {})
    assert x.flags.writeable  # the caller's array is untouched
    x[0, 0] = 5.0
    assert ds.X_train[0, 0] == 0.0


def test_dataset_rejects_inconsistent_shapes():
    x = np.zeros((3, 2))
    with pytest.raises(DatasetError):
        Dataset(
            "t", x, np.zeros((2, 1)), x[:0], np.zeros((0, 1)), "regression", ("a", "b"), ("y",), {}
        )
    with pytest.raises(DatasetError):
        Dataset("t", x, np.zeros((3, 1)), x[:0], np.zeros((0, 1)), "regression", ("a",), ("y",), {})
    with pytest.raises(DatasetError):
        Dataset(
            "t", x, np.zeros((3, 1)), x[:0], np.zeros((0, 1)), "ranking", ("a", "b"), ("y",), {}
        )


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_classification_labels_are_binary(name):
    ds = make_dataset(name, n_samples=150, noise=0.7, seed=2)
    assert ds.task == "classification"
    _, Y = all_rows(ds)
    assert set(np.unique(Y)) <= {0.0, 1.0}
    assert 0.0 in Y and 1.0 in Y


@pytest.mark.parametrize("name", REGRESSION)
@pytest.mark.parametrize("noise", [0.0, 0.5, 1.0])
def test_regression_targets_lie_in_unit_interval(name, noise):
    ds = make_dataset(name, n_samples=300, noise=noise, seed=4)
    assert ds.task == "regression"
    _, Y = all_rows(ds)
    assert Y.min() >= 0.0 and Y.max() <= 1.0


@pytest.mark.parametrize("name", GENERATED)
def test_inputs_are_in_playground_range(name):
    X, _ = all_rows(make_dataset(name, n_samples=300, noise=0.0))
    limit = 3.0 if name == "sine" else 6.0
    assert np.abs(X).max() <= limit


def test_xor4_exact_values():
    ds = make_dataset("xor4", n_samples=500, noise=1.0, test_fraction=0.5, seed=9)
    assert np.array_equal(ds.X_train, [[0, 0], [0, 1], [1, 0], [1, 1]])
    assert np.array_equal(ds.Y_train, [[0], [1], [1], [0]])
    assert ds.X_test.shape == (0, 2) and ds.Y_test.shape == (0, 1)
    assert ds.task == "classification"


def test_lecture_example_is_small_and_round():
    ds = make_dataset("lecture")
    assert np.array_equal(ds.X_train, [[1.0, 0.5]])
    assert np.array_equal(ds.Y_train, [[1.0]])
    assert ds.X_test.shape == (0, 2) and ds.Y_test.shape == (0, 1)


@pytest.mark.parametrize("name", DATASET_NAMES)
def test_params_rebuild_the_dataset(name):
    ds = make_dataset(name, n_samples=33, noise=0.25, test_fraction=0.3, seed=8)
    assert ds.params["name"] == name and ds.params["seed"] == 8
    assert make_dataset(**json.loads(json.dumps(ds.params))) == ds


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(DatasetError) as info:
        make_dataset("moons")
    message = str(info.value)
    assert "'moons'" in message
    assert all(name in message for name in DATASET_NAMES)


@pytest.mark.parametrize(
    "kwargs, word",
    [
        ({"n_samples": 1}, "n_samples"),
        ({"n_samples": 0}, "n_samples"),
        ({"n_samples": -5}, "n_samples"),
        ({"n_samples": 1_000_001}, "n_samples"),
        ({"n_samples": 2.5}, "n_samples"),
        ({"n_samples": True}, "n_samples"),
        ({"noise": -0.1}, "noise"),
        ({"noise": 1.5}, "noise"),
        ({"noise": float("nan")}, "noise"),
        ({"noise": "lots"}, "noise"),
        ({"test_fraction": -0.1}, "test_fraction"),
        ({"test_fraction": 0.95}, "test_fraction"),
        ({"test_fraction": float("nan")}, "test_fraction"),
        ({"seed": -1}, "seed"),
        ({"seed": 1.5}, "seed"),
    ],
)
@pytest.mark.parametrize("name", ["spiral", "xor4"])
def test_bad_arguments_raise_dataset_error(name, kwargs, word):
    with pytest.raises(DatasetError, match=word):
        make_dataset(name, **kwargs)


def test_dataset_error_is_a_value_error():
    assert issubclass(DatasetError, ValueError)


def test_boundary_arguments_are_accepted():
    tight = make_dataset("gauss", n_samples=2, noise=0.0, test_fraction=0.0)
    assert len(tight.X_train) == 2 and len(tight.X_test) == 0
    assert np.isfinite(tight.X_train).all()
    loose = make_dataset("gauss", n_samples=2, noise=1.0, test_fraction=0.9)
    assert len(loose.X_train) + len(loose.X_test) == 2 and len(loose.X_train) >= 1
    sine = make_dataset("sine", n_samples=np.int64(10), seed=np.int64(3))
    assert len(sine.X_train) + len(sine.X_test) == 10
    same = make_dataset("sine", n_samples=10, seed=3)
    np.testing.assert_array_equal(sine.X_train, same.X_train)  # NumPy ints act as ints


# ---------------------------------------------------------------------------
# CSV loading
# ---------------------------------------------------------------------------

GOOD_CSV = """id,x1,x2,y
a,0.5,1.0,0
b,1.5,-2.0,1
c,2.5,3.0,1
d,-1.0,0.0,0
e,4.0,4.5,1
"""


def write(tmp_path, text: str | bytes, name: str = "data.csv"):
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", newline="")
    return path


def csv_error(path, **kwargs) -> DatasetError:
    with pytest.raises(DatasetError) as info:
        load_csv(path, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message
    return info.value


def test_csv_round_trip_by_name_and_by_index(tmp_path):
    path = write(tmp_path, GOOD_CSV)
    by_name = load_csv(
        path, input_columns=["x1", "x2"], output_columns=["y"], test_fraction=0.4, seed=3
    )
    by_index = load_csv(path, input_columns=[1, 2], output_columns=[3], test_fraction=0.4, seed=3)
    assert by_name == by_index
    assert by_name.name == "data.csv"
    assert by_name.input_names == ("x1", "x2") and by_name.output_names == ("y",)
    assert by_name.task == "classification"
    assert by_name.X_train.shape == (3, 2) and by_name.X_test.shape == (2, 2)
    assert by_name.params == {
        "path": str(path),
        "input_columns": ["x1", "x2"],
        "output_columns": ["y"],
        "test_fraction": 0.4,
        "seed": 3,
    }
    # Every row of the file survives the shuffle and split, unchanged.
    X, Y = all_rows(by_name)
    got = sorted(map(tuple, np.hstack([X, Y])))
    want = sorted([(0.5, 1.0, 0), (1.5, -2.0, 1), (2.5, 3.0, 1), (-1.0, 0.0, 0), (4.0, 4.5, 1)])
    assert got == want
    for field in ARRAYS:
        assert not getattr(by_name, field).flags.writeable
    # params rebuild it, also after a trip through JSON.
    assert load_csv(**json.loads(json.dumps(by_name.params))) == by_name


def test_csv_default_columns_and_regression(tmp_path):
    path = write(tmp_path, "a,b,target\n1,2,0.25\n3,4,0.5\n5,6,2\n")
    ds = load_csv(path, test_fraction=0.0)
    assert ds.input_names == ("a", "b") and ds.output_names == ("target",)
    assert ds.task == "regression"
    assert ds.X_train.shape == (3, 2) and ds.Y_train.shape == (3, 1)
    assert ds.X_test.shape == (0, 2)
    # Only the output given: the inputs are all the other columns.
    ds = load_csv(path, output_columns=["a"], test_fraction=0.0)
    assert ds.input_names == ("b", "target") and ds.output_names == ("a",)
    # Multiple outputs and negative indices.
    ds = load_csv(path, input_columns=[0], output_columns=[-2, -1])
    assert ds.input_names == ("a",) and ds.output_names == ("b", "target")


def test_csv_tolerates_bom_crlf_spaces_blank_lines_and_quotes(tmp_path):
    text = '\ufeff x1 , "x2" ,y\r\n\r\n1, 2 ,1\r\n  \r\n"3",4,0\r\n'
    ds = load_csv(write(tmp_path, text.encode("utf-8")), test_fraction=0.0)
    assert ds.input_names == ("x1", "x2")
    assert sorted(map(tuple, ds.X_train)) == [(1.0, 2.0), (3.0, 4.0)]


def test_csv_ignores_text_in_unselected_columns(tmp_path):
    path = write(tmp_path, "comment,x,y\nhello world,1,0\n???,2,1\n")
    ds = load_csv(path, input_columns=["x"], output_columns=["y"])
    assert ds.input_names == ("x",)


def test_csv_same_seed_same_split_different_seed_different_split(tmp_path):
    rows = "\n".join(f"{i},{i * 2},{i % 2}" for i in range(40))
    path = write(tmp_path, "a,b,y\n" + rows + "\n")
    assert load_csv(path, seed=1) == load_csv(path, seed=1)
    assert not np.array_equal(load_csv(path, seed=1).X_train, load_csv(path, seed=2).X_train)


def test_csv_empty_file(tmp_path):
    err = csv_error(write(tmp_path, ""))
    assert "empty" in str(err)
    err = csv_error(write(tmp_path, "\n\n  \n", "blank.csv"))
    assert "empty" in str(err)


def test_csv_missing_header(tmp_path):
    err = csv_error(write(tmp_path, "1,2,3\n4,5,6\n7,8,9\n"))
    assert "line 1" in str(err) and "header" in str(err)
    assert err.line == 1


def test_csv_ragged_row(tmp_path):
    text = "x1,x2,x3,y\n1,2,3,0\n\n1,2,3,1\n4,5,6,0\n7,8,9,1\n1,2,3\n"
    err = csv_error(write(tmp_path, text))
    assert "line 7 has 3 fields, header has 4" in str(err)
    assert err.line == 7


def test_csv_non_numeric_cell(tmp_path):
    text = "x1,x2,y\n1,2,0\n3,4,1\n5,6,0\n7,abc,1\n"
    err = csv_error(write(tmp_path, text))
    assert "line 5, column 'x2': 'abc' is not a number" in str(err)
    assert (err.line, err.column) == (5, "x2")


def test_csv_line_numbers_count_multiline_quoted_fields(tmp_path):
    text = 'note,x,y\n"two\nlines",1,0\nok,2,oops\n'
    err = csv_error(write(tmp_path, text), input_columns=["x"])
    assert "line 4, column 'y'" in str(err)


@pytest.mark.parametrize("cell", ["nan", "NaN", "inf", "-inf", "1e999"])
def test_csv_non_finite_cell(tmp_path, cell):
    err = csv_error(write(tmp_path, f"x1,x2,y\n1,2,0\n3,{cell},1\n"))
    assert "line 3, column 'x2'" in str(err) and "finite" in str(err)


def test_csv_empty_cell(tmp_path):
    err = csv_error(write(tmp_path, "x1,x2,y\n1,2,0\n3,4,\n"))
    assert "line 3, column 'y'" in str(err) and "empty" in str(err)


def test_csv_long_cell_is_shortened(tmp_path):
    err = csv_error(write(tmp_path, "x,y\n1,0\n" + "z" * 500 + ",1\n"))
    assert "line 3, column 'x'" in str(err) and len(str(err)) < 200 + len(str(tmp_path))


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        ({"input_columns": ["x1", "nope"]}, "'nope'"),
        ({"output_columns": ["Y"]}, "'Y'"),
        ({"input_columns": [7]}, "index 7"),
        ({"output_columns": [-4]}, "index -4"),
        ({"input_columns": [1.5]}, "1.5"),
        ({"input_columns": []}, "empty"),
        ({"input_columns": ["x1", 0]}, "twice"),
    ],
)
def test_csv_bad_column_selection(tmp_path, kwargs, needle):
    err = csv_error(write(tmp_path, "x1,x2,y\n1,2,0\n3,4,1\n"), **kwargs)
    assert needle in str(err)


def test_csv_overlapping_columns(tmp_path):
    path = write(tmp_path, "x1,x2,y\n1,2,0\n3,4,1\n")
    err = csv_error(path, input_columns=["x1", "x2"], output_columns=[1])
    assert "'x2'" in str(err) and "both" in str(err)
    err = csv_error(path, input_columns=["x1", "y"])  # default output: the last column
    assert "'y'" in str(err) and "both" in str(err)


@pytest.mark.parametrize("text", ["x1,y\n", "x1,y\n1,0\n", "x1,y\n\n1,0\n\n"])
def test_csv_too_few_rows(tmp_path, text):
    err = csv_error(write(tmp_path, text))
    assert "at least 2" in str(err)


@pytest.mark.parametrize(
    "header, needle",
    [
        ("x,,y", "line 1: column 1 has an empty name"),
        ("x,x,y", "'x' appears twice"),
        ("only", "2 columns"),
    ],
)
def test_csv_bad_header(tmp_path, header, needle):
    width = header.count(",") + 1
    row = ",".join(["1"] * width)
    err = csv_error(write(tmp_path, f"{header}\n{row}\n{row}\n"))
    assert needle in str(err)


def test_csv_file_not_found(tmp_path):
    err = csv_error(tmp_path / "missing.csv")
    assert "not found" in str(err)


def test_csv_directory(tmp_path):
    csv_error(tmp_path)


def test_csv_not_utf8(tmp_path):
    err = csv_error(write(tmp_path, b"x,y\n1,0\n2,\xff\xfe\n"))
    assert "line 3" in str(err) and "UTF-8" in str(err)


def test_csv_malformed_by_csv_module(tmp_path):
    err = csv_error(write(tmp_path, "x,y\n1,0\n" + "9" * 200_000 + ",1\n"))
    assert "line 3" in str(err)


@pytest.mark.parametrize("kwargs", [{"test_fraction": 1.0}, {"seed": -3}])
def test_csv_bad_split_arguments(tmp_path, kwargs):
    with pytest.raises(DatasetError):
        load_csv(write(tmp_path, GOOD_CSV), **kwargs)


def test_csv_path_of_wrong_type():
    with pytest.raises(DatasetError):
        load_csv(3)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# Fuzzing: arbitrary file contents load or raise DatasetError, nothing else
# ---------------------------------------------------------------------------

FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

csv_like_text = st.lists(
    st.lists(
        st.one_of(
            st.sampled_from(
                ["x", "y", "1", "0", "-2.5", "1e3", "nan", "inf", "", " ", "abc", '"', '"a,b"']
            ),
            st.text(alphabet='0123456789.-+eE,"\n\r ab\x00\ufeff', max_size=6),
        ),
        min_size=0,
        max_size=5,
    ).map(",".join),
    min_size=0,
    max_size=8,
).map("\n".join)


def _load_or_dataset_error(path) -> None:
    """Refused with one line, or loaded (both readers agree) and round-trips through a file."""
    import bpviz.engine.datasets as datasets_module
    from bpviz.engine.experiment import Setup
    from bpviz.engine.experiment_io import dumps_experiment, parse_experiment

    slow_reader = pytest.MonkeyPatch()
    slow_reader.setattr(datasets_module, "_fast_values", lambda *args: None)
    try:
        slow: Dataset | DatasetError = load_csv(path)
    except DatasetError as err:
        slow = err
    finally:
        slow_reader.undo()
    try:
        ds = load_csv(path)
    except DatasetError as err:
        assert "\n" not in str(err)
        assert isinstance(slow, DatasetError) and str(slow) == str(err)
        return
    assert isinstance(ds, Dataset)
    assert ds == slow
    assert ds.X_train.shape[0] >= 1
    assert np.all(np.isfinite(ds.X_train)) and np.all(np.isfinite(ds.Y_train))
    setup = Setup(dataset="csv", csv_path=str(path), hidden=(2,), test_fraction=0.2)
    again = parse_experiment(json.loads(dumps_experiment(setup, None, ds)))
    assert again.dataset == ds


@FUZZ
@given(data=st.binary(max_size=200))
def test_fuzz_random_bytes(tmp_path_factory, data):
    path = tmp_path_factory.getbasetemp() / "fuzz_bytes.csv"
    path.write_bytes(data)
    _load_or_dataset_error(path)


@FUZZ
@given(text=csv_like_text)
def test_fuzz_csv_like_text(tmp_path_factory, text):
    path = tmp_path_factory.getbasetemp() / "fuzz_text.csv"
    path.write_text(text, encoding="utf-8", newline="")
    _load_or_dataset_error(path)


numeric_table = st.lists(
    st.lists(
        st.tuples(
            st.floats(allow_nan=False, allow_infinity=False),
            st.sampled_from(["{}", " {} ", '"{}"', "{}  "]),
        ),
        min_size=3,
        max_size=3,
    ),
    min_size=2,
    max_size=12,
)


@FUZZ
@given(rows=numeric_table, blank=st.booleans(), crlf=st.booleans())
def test_fuzz_numeric_tables_read_fast_exactly_as_written(tmp_path_factory, rows, blank, crlf):
    """Numbers as Python writes them (spaces, quotes, blank lines, CRLF): read back bit for bit."""
    path = tmp_path_factory.getbasetemp() / "fuzz_numeric.csv"
    nl = "\r\n" if crlf else "\n"
    lines = ["a,b,y"] + [",".join(fmt.format(repr(v)) for v, fmt in row) for row in rows]
    if blank:
        lines.insert(2, "")
    path.write_text(nl.join(lines) + nl, encoding="utf-8", newline="")
    _load_or_dataset_error(path)
    ds = load_csv(path, test_fraction=0.0, output_columns=["y"])
    want = np.array([[v for v, _ in row] for row in rows])
    got = np.concatenate([ds.X_train, ds.Y_train], axis=1)
    assert np.array_equal(np.sort(got, axis=0), np.sort(want, axis=0))
