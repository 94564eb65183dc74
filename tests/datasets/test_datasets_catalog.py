"""Every registered release loader: its description, its failure on an empty folder, and how
`datasets list` and `datasets show` present it."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from tests.support import shared_path

from engine.cli.main import main
from engine.datasets import get_loader, load_dataset, loader_info, loader_names
from engine.datasets.catalogue import CATALOGUE, release_info
from engine.datasets.sources import SOURCES
from engine.errors import DatasetError
from engine.taxonomy import TAXONOMIES

RELEASES = [name for name in loader_names() if loader_info(name) is not None]


def test_the_catalogue_covers_every_set_of_the_issue():
    assert set(RELEASES) == {"emotion6", "oasis", "twitter1", "twitter2", "abstract", "artphoto", "fi", "emoset",
                             "unbiasedemo", "fer2013", "ferplus", "rafdb", "affectnet", "ckplus", "sfew"}
    assert set(SOURCES) == set(RELEASES)


@pytest.mark.parametrize("name", RELEASES)
def test_each_release_is_described_and_fails_clearly_on_an_empty_folder(name, tmp_path):
    info = loader_info(name)
    assert info.citation and info.licence and info.homepage.startswith("http") and info.expected
    assert info.access in ("public", "page", "request", "account") and info.config.startswith(f"{{name: {name}")
    assert info.taxonomy is None or info.taxonomy in TAXONOMIES
    assert (get_loader(name).__module__ and (doc := __import__(get_loader(name).__module__, fromlist=["_"]).__doc__))
    assert any(year in doc for year in ("2010", "2013", "2015", "2016", "2017", "2018", "2019", "2023"))
    with pytest.raises(DatasetError) as caught:
        load_dataset(name, path=tmp_path)
    assert name in str(caught.value) or str(tmp_path) in str(caught.value)
    source = SOURCES[name]
    assert source.page.startswith("http") and (source.sha256 is None or len(source.sha256) == 64)


def test_list_shows_dimensions_taxonomy_licence_and_citation(tmp_path, capsys):
    assert main(["datasets", "list", "--db", str(tmp_path / "none.duckdb")]) == 0
    out = capsys.readouterr().out
    block = out[out.index("  rafdb"):out.index("  sfew")]
    assert "dimensions: emotion; taxonomy: ekman7; images: train 12,271, test 3,068" in block
    assert "licence: non-commercial research only" in block and "cite: Li, Deng & Du" in block
    assert "on request" in block and "Generic formats" in out and "hf " in out
    assert main(["datasets", "list", "--json", "--db", str(tmp_path / "none.duckdb")]) == 0
    listing = json.loads(capsys.readouterr().out)
    ferplus = next(r for r in listing["releases"] if r["name"] == "ferplus")
    assert ferplus["taxonomy"] == "fer8" and ferplus["access"] == "public" and "MIT" in ferplus["licence"]


def test_show_compares_what_was_found_with_the_release(tmp_path, capsys):
    root = shared_path("datasets", "twitter1")
    assert main(["datasets", "show", "twitter1", "--path", str(root), "-o", "check_images=false", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["release"] == {"five_agree": {"expected": 882, "found": 442},
                                  "at_least_four_agree": {"expected": 1116, "found": 559},
                                  "at_least_three_agree": {"expected": 1269, "found": 636}}
    (tmp_path / "EmoLabel").mkdir()
    shutil.copy(shared_path("layouts", "rafdb", "list_patition_label.tail20.txt"),
                tmp_path / "EmoLabel" / "list_patition_label.txt")
    assert main(["datasets", "show", "rafdb", "--path", str(tmp_path), "-o", "check_images=false"]) == 0
    out = capsys.readouterr().out
    assert "train" in out and "0 / 12,271   12,271 missing" in out and "20 / 3,068    3,048 missing" in out


def test_readme_table_is_the_generated_one(capsys):
    """The README's release table is `datasets list --markdown` (regenerate it when a release changes)."""
    from tests.support import REPO

    assert main(["datasets", "list", "--markdown"]) == 0
    generated = capsys.readouterr().out
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert generated in readme, "README.md's dataset table is stale: paste `affectlens datasets list --markdown`"


def test_a_release_missing_from_the_catalogue_names_the_file_to_add_it_to():
    with pytest.raises(KeyError, match=f"no release 'nosuchset' in {re.escape(str(CATALOGUE))}; add an entry"):
        release_info("nosuchset")
