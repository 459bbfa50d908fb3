"""A `relc build` killed at any moment (SIGKILL: no cleanup code runs) leaves the previous output byte for byte.

The build runs as a subprocess over a few hundred SLOs, so staging its files takes long enough to be
caught in the middle. At each kill point the process is first stopped (SIGSTOP), its target
directories are checked not to have been swapped yet (else the kill point was too late and the test
says so), and then it is killed. The next build must remove the staging directories it left.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from relc.compiler.output import manifest as manifest

SERVICES = 150
TARGETS = ("runbook", "prometheus")  # staged in this order: most files first
STAGING = re.compile(r"^\.relc-(tmp|old)\.")


def source(objective: str) -> str:
    """Two SLOs per service; the objective changes every generated file."""
    return "".join(f"""
service svc-{i} {{
  owner = "team-{i % 7}"
  slo availability {{
    objective = {objective}
    window = 30d
    sli events {{
      bad = http_requests_total{{job="svc-{i}", code=~"5.."}}
      total = http_requests_total{{job="svc-{i}"}}
    }}
  }}
  slo latency {{
    objective = {objective}
    window = 28d
    sli latency {{
      histogram = http_request_duration_seconds{{job="svc-{i}"}}
      threshold = 300ms
    }}
  }}
}}
""" for i in range(SERVICES))


def command(src: Path, out: Path) -> list[str]:
    targets = [arg for name in TARGETS for arg in ("-t", name)]
    return [sys.executable, "-m", "relc.compiler", "build", "--no-config", str(src), "-o", str(out), *targets]


def tree(root: Path) -> dict[str, bytes]:
    """Every file under root except relc's staging directories, which a later build removes."""
    files = {}
    for top in root.iterdir():
        if STAGING.match(top.name):
            continue
        paths = [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.is_file())
        files.update((str(p.relative_to(root)), p.read_bytes()) for p in paths)
    return files


def inode(path: Path) -> int | None:
    try:
        return path.stat().st_ino
    except FileNotFoundError:
        return None


def staging(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if STAGING.match(p.name))


def staged_share(root: Path, target: str, total: int) -> float:
    """How far staging of `target` got: entries in its staging directory over the entries it will have."""
    for entry in os.scandir(root):
        if entry.name.startswith(f".relc-tmp.{target}."):
            try:
                return len(os.listdir(entry.path)) / total
            except FileNotFoundError:
                return 0.0
    return 0.0


def stop_when(cmd: list[str], ready, timeout: float = 300) -> subprocess.Popen:
    """Start cmd and stop it (SIGSTOP) as soon as ready(elapsed seconds) is true."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    start = time.monotonic()
    try:
        while not ready(time.monotonic() - start):
            if proc.poll() is not None:
                pytest.fail(f"the build ended (exit {proc.returncode}) before the kill point: {proc.stderr.read()}")
            if time.monotonic() - start > timeout:
                pytest.fail("the build did not reach the kill point in time")
            time.sleep(0.0002)
        proc.send_signal(signal.SIGSTOP)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    return proc


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("interrupt")
    (base / "old.relc").write_text(source("99.9%"))
    (base / "new.relc").write_text(source("99.5%"))
    done = subprocess.run(command(base / "old.relc", base / "previous"), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return base


KILL_POINTS = {
    "after 5 ms": lambda out: lambda elapsed: elapsed >= 0.005,
    "first staging directory": lambda out: lambda elapsed: out.exists() and bool(staging(out)),
    "runbook a third written": lambda out: lambda elapsed: staged_share(out, "runbook", SERVICES + 1) >= 1 / 3,
}


@pytest.mark.parametrize("source_name", ["new.relc", "old.relc"], ids=["changed", "unchanged (files linked)"])
def test_killed_build_leaves_previous_output_and_next_build_cleans_up(work: Path, source_name: str):
    out = work / f"out-{source_name}"
    shutil.copytree(work / "previous", out)
    previous = tree(work / "previous")
    inodes = {name: inode(out / name) for name in TARGETS}
    for point, condition in KILL_POINTS.items():
        proc = stop_when(command(work / source_name, out), condition(out))
        now = {name: inode(out / name) for name in TARGETS}
        proc.kill()
        proc.wait()
        assert None not in now.values(), f"killed at {point}, a target directory is gone: {now}"
        swapped = [name for name in TARGETS if now[name] != inodes[name]]
        assert not swapped, f"{point}: the build was already swapping in {swapped}; the kill point came too late"
        assert tree(out) == previous, f"killed at {point}, the output is not the previous build"
        if point != "after 5 ms":
            assert staging(out), f"killed at {point}, the build should have been writing aside"

    leftovers = staging(out)
    kept = {p: inode(out / p) for p in previous}
    done = subprocess.run(command(work / source_name, out), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert not set(leftovers) & set(staging(out)), "the next build removes what killed builds left"
    assert staging(out) == []
    files = tree(out)
    listed = {f"{t}/{p}": h for t, entry in manifest.read(out).items() for p, h in entry.items()}
    assert listed == {p: manifest.digest(b) for p, b in files.items() if p != manifest.MANIFEST_NAME}
    changed = [p for p in previous if files.get(p) != previous[p]]
    if source_name == "new.relc":
        assert len(changed) > SERVICES, "the new build replaced the previous output"
    else:
        assert files == previous
        assert all(inode(out / p) == kept[p] for p in previous if p != manifest.MANIFEST_NAME), \
            "an unchanged file is the previous build's, linked"


CTRL_C_POINTS = {  # when Ctrl-C reaches the whole process group (the build and any workers it forked)
    "while compiling": lambda out: lambda elapsed: elapsed >= 0.8,
    "while staging": lambda out: lambda elapsed: out.exists() and bool(staging(out)),
}


@pytest.fixture(scope="module")
def big(work: Path) -> Path:
    """Ten times the services: compiling alone takes seconds, so Ctrl-C lands inside it."""
    global SERVICES
    kept, SERVICES = SERVICES, SERVICES * 10
    try:
        (work / "big.relc").write_text(source("99.5%"))
    finally:
        SERVICES = kept
    return work / "big.relc"


@pytest.mark.parametrize("point", sorted(CTRL_C_POINTS))
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_ctrl_c_says_interrupted_exits_130_and_keeps_the_previous_output(work: Path, big: Path, point: str,
                                                                         jobs: str, tmp_path: Path):
    out = tmp_path / "out"
    shutil.copytree(work / "previous", out)
    before = tree(out)
    ready = CTRL_C_POINTS[point](out)
    proc = subprocess.Popen(command(big, out), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, start_new_session=True, env={**os.environ, "RELC_JOBS": jobs})
    start = time.monotonic()
    try:
        while not ready(time.monotonic() - start) and proc.poll() is None:
            time.sleep(0.0005)
        ended_first = proc.poll() is not None
        if not ended_first:
            os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert not ended_first, f"the build ended before Ctrl-C ({point}): {err}"
    assert "Traceback" not in err and "internal error" not in err, err
    assert proc.returncode == 130 and err.strip().endswith("relc: interrupted"), (proc.returncode, err)
    assert err.count("relc: interrupted") == 1, err
    assert tree(out) == before  # nothing swapped in; the staging directories are removed by the next build


def test_ctrl_c_while_the_cli_loads_is_an_interruption(monkeypatch, capsys):
    import builtins

    from relc.compiler import entry

    real_import = builtins.__import__

    def interrupted(name, *args, **kwargs):
        if name == "cli" or name.endswith(".cli"):
            raise KeyboardInterrupt
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", interrupted)
    with pytest.raises(SystemExit) as exit_:
        entry.run()
    assert exit_.value.code == 130 and capsys.readouterr().err == "relc: interrupted\n"
