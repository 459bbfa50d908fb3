"""`depends_on`: references, cycles and the reliability ceiling, checked, explained, and linked from runbooks and
dashboards; both parsers read the new syntax alike and `relc fmt` keeps it."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from relc.compiler.pipeline import compile_paths

PROJECT = """\
service storage {
  slo disks {
    objective = 99.9%
    sli events {
      bad = disk_errors_total
      total = disk_ops_total
    }
  }
}

service postgres {
  slo availability {
    objective = 99.95%
    depends_on = [storage/disks]
    sli events {
      bad = pg_errors_total
      total = pg_queries_total
    }
  }
}

service checkout {
  slo availability {
    objective = 99.8%
    depends_on = [postgres/availability, soft(search/availability), payments/availability]
    sli events {
      bad = http_requests_total{code="500"}
      total = http_requests_total
    }
  }
}

service search {
  slo availability {
    objective = 99.5%
    sli events {
      bad = search_errors_total
      total = search_requests_total
    }
  }
}

service payments {
  slo availability {
    objective = 99.9%
    sli events {
      bad = pay_errors_total
      total = pay_requests_total
    }
  }
}
"""


def check(tmp_path: Path, text: str):
    path = tmp_path / "deps.relc"
    path.write_text(text)
    return compile_paths([str(path)])


def codes(result) -> list[tuple[str, int, int]]:
    return [(d.code, d.span.line, d.span.col) for d in result.diagnostics]


def test_the_ceiling_is_the_product_of_the_hard_dependencies(tmp_path: Path):
    result = check(tmp_path, PROJECT)
    assert result.ok and codes(result) == [("RELC317", 13, 17)]  # postgres 99.95% over storage's 99.9%
    project = result.project
    ceiling, costliest = project.ceiling(project.find("checkout/availability"))
    assert ceiling == pytest.approx(0.9995 * 0.999) and costliest.service == "payments"  # search is soft


def test_the_warning_names_the_ceiling_and_the_costliest(tmp_path: Path):
    result = check(tmp_path, PROJECT.replace("objective = 99.8%", "objective = 99.9%"))
    warning = next(d for d in result.diagnostics if d.span.line == 24)
    assert warning.code == "RELC317" and "99.85%" in warning.message and "(99.95% x 99.9%)" in warning.message
    assert "`payments/availability` (99.9%) costs most" in warning.hint


def test_unknown_references_cycles_and_bad_entries(tmp_path: Path):
    broken = PROJECT.replace("depends_on = [storage/disks]", "depends_on = [storage/disk, checkout/availability]")
    broken = broken.replace("payments/availability]", 'payments/availability, hard(a/b), "a/b", postgres/availability]')
    result = check(tmp_path, broken)
    assert not result.ok
    found = {(d.code, d.span.line) for d in result.diagnostics}
    assert {("RELC306", 14), ("RELC316", 25), ("RELC312", 25), ("RELC303", 25), ("RELC314", 25)} <= found
    unknown = next(d for d in result.diagnostics if d.code == "RELC306")
    assert unknown.hint == "did you mean `storage/disks`?"
    cycle = next(d for d in result.diagnostics if d.code == "RELC316")
    assert "checkout/availability -> postgres/availability -> checkout/availability" in cycle.message


def test_an_slo_depending_on_itself(tmp_path: Path):
    result = check(tmp_path, PROJECT.replace("depends_on = [storage/disks]", "depends_on = [postgres/availability]"))
    (diag,) = [d for d in result.diagnostics if d.code == "RELC316"]
    assert "depends on itself" in diag.message and diag.span.line == 14


def test_a_long_chain_and_a_wide_graph_stay_fast(tmp_path: Path):
    """Thousands of SLOs in one chain, then all of them in one ring: linear work, no recursion limit."""
    import time

    n = 3000
    slos = [f"service s{i} {{\n  slo a {{\n    objective = 99%\n"
            f"    depends_on = [s{(i + 1) % n}/a]\n    sli events {{\n      bad = e_total\n      total = t_total\n"
            "    }\n  }\n}\n" for i in range(n)]
    started = time.perf_counter()
    result = check(tmp_path, "".join(slos))
    assert time.perf_counter() - started < 30
    assert [d.code for d in result.diagnostics if d.is_error] == ["RELC316"]


def test_both_parsers_and_fmt_agree(tmp_path: Path):
    from relc.compiler.syntax import parser
    from relc.compiler.syntax.fastparse import FastParser

    fast, _ = FastParser("x", PROJECT).module()
    slow, _ = parser._parse_with_lark("x", PROJECT)
    assert fast == slow
    (tmp_path / "deps.relc").write_text(PROJECT)
    proc = subprocess.run(["relc", "fmt", "--check", str(tmp_path / "deps.relc")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    squeezed = PROJECT.replace("soft(search/availability)", "soft( search/availability )")
    (tmp_path / "deps.relc").write_text(squeezed)
    subprocess.run(["relc", "fmt", str(tmp_path / "deps.relc")], check=True, capture_output=True)
    assert (tmp_path / "deps.relc").read_text() == PROJECT


def test_explain_runbooks_and_dashboards(tmp_path: Path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "deps.relc").write_text(PROJECT)
    text = subprocess.run(["relc", "explain", str(tmp_path / "src"), "--slo", "checkout/availability"],
                          capture_output=True, text=True).stdout
    assert "depends on       postgres/availability (99.95%), search/availability (soft), payments/availability " \
           "(99.9%)" in text
    assert "ceiling          99.85%" in text
    assert "checkout/availability -> payments/availability (99.9%)" in text
    data = json.loads(subprocess.run(["relc", "explain", str(tmp_path / "src"), "--slo", "postgres/availability",
                                      "--format", "json"], capture_output=True, text=True).stdout)
    assert data["slos"][0]["dependencies"]["chain"] == ["postgres/availability", "storage/disks (99.9%)"]
    out = tmp_path / "out"
    subprocess.run(["relc", "build", str(tmp_path / "src"), "-o", str(out), "-t", "runbook", "-t", "grafana"],
                   check=True, capture_output=True)
    page = (out / "runbook" / "checkout" / "availability.md").read_text()
    assert "[postgres/availability](../postgres/availability.md) (99.95%)" in page
    assert "[search/availability](../search/availability.md) (soft" in page and "**99.85%**" in page
    board = json.loads((out / "grafana" / "provisioning" / "dashboards" / "relc" / "relc-checkout.json").read_text())
    assert [link["url"] for link in board["links"] if link["title"].startswith("Depends on")] == [
        "/d/relc-payments?var-slo=availability", "/d/relc-postgres?var-slo=availability",
        "/d/relc-search?var-slo=availability"]
