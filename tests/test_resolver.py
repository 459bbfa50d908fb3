"""Imports stay inside the project root, load once, and cycles are reported with their chain."""
from __future__ import annotations

import os
from pathlib import Path

from relc.compiler.pipeline import compile_paths

SERVICE = 'service s { slo a { objective = 99%  sli events { bad = e  total = t } } }\n'


def codes(result) -> list[str]:
    return [d.code for d in result.diagnostics]


def test_symlink_out_of_root_is_refused(tmp_path: Path):
    outside = tmp_path / "outside.relc"
    outside.write_text(SERVICE)
    root = tmp_path / "project"
    root.mkdir()
    os.symlink(outside, root / "link.relc")
    (root / "main.relc").write_text('import "link.relc"\n')
    result = compile_paths([str(root / "main.relc")])
    assert "RELC202" in codes(result)


def test_directory_input_skips_generated_and_hidden_dirs(tmp_path: Path):
    (tmp_path / "a.relc").write_text(SERVICE)
    for skipped in ("_gen", ".git", "node_modules"):
        (tmp_path / skipped).mkdir()
        (tmp_path / skipped / "b.relc").write_text("this is not valid relc {")
    result = compile_paths([str(tmp_path)])
    assert result.ok, result.diagnostics
    assert len(result.texts) == 1


def test_diamond_imports_load_each_file_once(tmp_path: Path):
    (tmp_path / "common.relc").write_text('runbook r { summary = "x" }\n')
    (tmp_path / "a.relc").write_text('import "common.relc"\n')
    (tmp_path / "b.relc").write_text('import "common.relc"\nimport "a.relc"\n')
    main = tmp_path / "main.relc"
    main.write_text('import "a.relc"\nimport "b.relc"\n' + SERVICE)
    result = compile_paths([str(main)])
    assert result.ok, result.diagnostics
    assert len(result.texts) == 4


def test_self_import_is_a_cycle(tmp_path: Path):
    (tmp_path / "self.relc").write_text('import "self.relc"\n')
    result = compile_paths([str(tmp_path / "self.relc")])
    assert codes(result) == ["RELC203"]


def test_empty_directory_is_reported(tmp_path: Path):
    result = compile_paths([str(tmp_path)])
    assert codes(result) == ["RELC204"] and not result.ok


def test_same_file_given_twice_is_read_once(tmp_path: Path):
    (tmp_path / "a.relc").write_text(SERVICE)
    result = compile_paths([str(tmp_path / "a.relc"), str(tmp_path)])
    assert result.ok, result.diagnostics


def test_directory_scan_refuses_symlinks_leaving_the_root(tmp_path: Path):
    outside = tmp_path / "outside.relc"
    outside.write_text(SERVICE)
    root = tmp_path / "project"
    (root / "lib").mkdir(parents=True)
    os.symlink(outside, root / "lib" / "link.relc")
    result = compile_paths([str(root)])
    assert codes(result) == ["RELC202"]
    assert not result.texts


def test_hidden_files_are_skipped_and_bom_is_accepted(tmp_path: Path):
    (tmp_path / ".scratch.relc").write_text("not relc {")
    (tmp_path / "a.relc").write_bytes(b"\xef\xbb\xbf" + SERVICE.encode())
    result = compile_paths([str(tmp_path)])
    assert result.ok, result.diagnostics


def test_a_search_says_what_it_left_out(tmp_path, monkeypatch):
    """SLO specs in formats relc does not read get a note each, and a hidden folder holding specs gets one that
    says how to include it; with nothing readable left, RELC204 says to look at the notes."""
    from relc.compiler.pipeline import compile_paths

    (tmp_path / ".openslo").mkdir()
    (tmp_path / ".openslo" / "slo.yaml").write_text("apiVersion: openslo/v1\nkind: Service\nmetadata: {name: web}\n")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.relc").write_text("service {")
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "n9.yaml").write_text("apiVersion: n9/v1alpha\nkind: SLO\n")
    (tmp_path / "infra" / "main.tf").write_text('resource "datadog_service_level_objective" "a" {}\n')
    (tmp_path / "infra" / "other.tf").write_text('resource "aws_s3_bucket" "a" {}\n')
    (tmp_path / "infra" / "values.yaml").write_text("replicas: 2\n")
    monkeypatch.chdir(tmp_path)
    result = compile_paths(["."])
    notes = sorted((d.message, d.hint) for d in result.diagnostics if d.severity.name == "NOTE")
    assert [m for m, _ in notes] == [
        ".openslo is hidden, so directory searches skip it; it holds 1 spec file(s), e.g. .openslo/slo.yaml",
        "infra/main.tf is not read: Terraform (datadog_service_level_objective); relc reads .relc, Sloth, OpenSLO "
        "and Pyrra files",
        "infra/n9.yaml is not read: it looks like a Nobl9 spec"]
    assert "relc check .openslo" in notes[0][1]
    assert [d.code for d in result.diagnostics if d.is_error] == ["RELC204"]
    assert compile_paths([".openslo"]).ok
    named = compile_paths(["infra/main.tf"])
    assert [(d.code, d.message) for d in named.diagnostics] == [
        ("RELC201", "cannot read infra/main.tf: a Terraform file, not .relc, Sloth, OpenSLO or Pyrra")]
