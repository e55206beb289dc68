"""``bpviz exercises`` end to end: PDF sheets and keys, byte for byte, progress, errors."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.helpers import run_cli


def run(*args: str):
    """``bpviz *args`` in a child (sheets as PDF take longer than the other commands)."""
    return run_cli(*args, timeout=300)


def test_pdf_sheets_and_keys_are_reproducible_byte_for_byte(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        r = run(
            "exercises", "--example", "lecture", "--count", "3", "--seed", "11", "--out", str(out)
        )
        assert r.returncode == 0, r.stderr
    assert r.stderr.splitlines() == [f"bpviz: sheet {n} of 3 written" for n in (1, 2, 3)]
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(
        f"{kind}-{n:02d}.{ext}"
        for kind, ext in (("key", "pdf"), ("sheet", "json"), ("sheet", "pdf"))
        for n in (1, 2, 3)
    )
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert (a / "sheet-01.pdf").read_bytes().startswith(b"%PDF")
    assert (a / "sheet-01.pdf").read_bytes() != (a / "sheet-02.pdf").read_bytes()


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_the_pdf_sheet_has_blanks_and_the_key_the_results(tmp_path):
    r = run("exercises", "--example", "lecture", "--count", "1", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    sheet = subprocess.run(
        ["pdftotext", str(tmp_path / "sheet-01.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    key = subprocess.run(
        ["pdftotext", str(tmp_path / "key-01.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "exercise sheet 01" in sheet and "____" in sheet
    assert "answer key 01" in key and "Weight update" in key and "____" not in key


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--example", "nope", "--count", "2"], "unknown example 'nope'"),
        (["--example", "lecture", "--count", "0"], "--count"),
        (["--example", "lecture", "--count", "2", "--format", "doc"], "--format"),
        (["--count", "2"], "either EXPERIMENT.json or --example"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, says):
    r = run("exercises", *args, "--out", str(tmp_path / "out"))
    assert r.returncode == 2
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("bpviz: error: ") and says in lines[0]


def test_an_unwritable_folder_is_one_line_and_exit_2(tmp_path):
    target = tmp_path / "file-not-folder"
    target.write_text("x")
    r = run("exercises", "--example", "lecture", "--out", str(target / "sub"))
    assert r.returncode == 2
    assert len(r.stderr.splitlines()) == 1 and "cannot make the folder" in r.stderr
