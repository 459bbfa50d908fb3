"""The VS Code extension in editors/vscode.

Its TextMate grammar is run by vscode-textmate with vscode-oniguruma, the libraries VS Code itself tokenises
with, under node. They come from the npm registry once and are kept in the user cache (RELC_CACHE_DIR, else
$XDG_CACHE_HOME/relc or ~/.cache/relc, as for the parser cache), in `npm-textmate/`. Every `.relc` file of
examples/ and tests/good/ is tokenised and compared, token by token, with what relc's own parser
(grammar/relc.lark) reads there: a comment must be scoped as a comment, a string as a string, a duration as
a duration, a block kind as a block kind, and so on, so the highlighting cannot drift from the language.
A fixture pins the cases that are easy to get wrong (raw strings over several lines, `#` inside strings,
`calendar month`, selectors, references).

The extension's client, extension.js, is loaded by node with stand-ins for `vscode` and
`vscode-languageclient/node`, to see that it starts `relc lsp` (or what the settings say) over stdio.

Without node or npm the tests skip; in CI (CI set) they fail, as for every other ecosystem tool.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import lark
import pytest

from conftest import ROOT, require_tool

EXTENSION = ROOT / "editors" / "vscode"
GRAMMAR = EXTENSION / "syntaxes" / "relc.tmLanguage.json"
PACKAGES = ("vscode-textmate@9", "vscode-oniguruma@2")
SAMPLES = sorted([*(ROOT / "examples").rglob("*.relc"), *(ROOT / "tests" / "good").rglob("*.relc")])

# Reads {"name": "text", ...} on stdin; prints {"name": [[{"text", "scopes"}, ...] per line]}.
TOKENIZE_JS = r"""
const fs = require('fs');
const path = require('path');
const [modules, grammarPath] = process.argv.slice(2);
const vsctm = require(path.join(modules, 'vscode-textmate'));
const onig = require(path.join(modules, 'vscode-oniguruma'));

async function main() {
  const wasm = fs.readFileSync(path.join(modules, 'vscode-oniguruma', 'release', 'onig.wasm'));
  await onig.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (sources) => new onig.OnigScanner(sources),
      createOnigString: (text) => new onig.OnigString(text),
    }),
    loadGrammar: async (scopeName) => scopeName === 'source.relc'
      ? vsctm.parseRawGrammar(fs.readFileSync(grammarPath, 'utf8'), grammarPath) : null,
  });
  const grammar = await registry.loadGrammar('source.relc');
  if (!grammar) throw new Error('source.relc did not load');
  const texts = JSON.parse(fs.readFileSync(0, 'utf8'));
  const result = {};
  for (const [name, text] of Object.entries(texts)) {
    let stack = vsctm.INITIAL;
    result[name] = text.split('\n').map((line) => {
      const { tokens, ruleStack } = grammar.tokenizeLine(line, stack, 5000);
      stack = ruleStack;
      return tokens.map((t) => ({ text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes }));
    });
  }
  process.stdout.write(JSON.stringify(result));
}
main().catch((err) => { console.error(err && err.stack ? err.stack : err); process.exit(1); });
"""

# Loads extension.js with stand-ins for the VS Code API and the language client and reports what it did.
CLIENT_JS = r"""
const Module = require('module');
const [extension, settingsJson] = process.argv.slice(2);
const settings = JSON.parse(settingsJson);
const events = [];
const vscode = {
  workspace: {
    getConfiguration: (section) => ({
      get: (key, fallback) => (`${section}.${key}` in settings ? settings[`${section}.${key}`] : fallback),
    }),
    createFileSystemWatcher: (glob) => ({ glob, dispose() {} }),
    onDidChangeConfiguration: () => ({ dispose() {} }),
  },
  window: { showErrorMessage: (message) => events.push({ event: 'error', message }) },
};
const TransportKind = { stdio: 0, ipc: 1, pipe: 2, socket: 3 };
class LanguageClient {
  constructor(id, name, serverOptions, clientOptions) {
    events.push({ event: 'new', id, name, serverOptions, documentSelector: clientOptions.documentSelector });
    this.running = false;
  }
  async start() { this.running = true; events.push({ event: 'start' }); }
  isRunning() { return this.running; }
  async stop() { this.running = false; events.push({ event: 'stop' }); }
}
const load = Module._load;
Module._load = function (request, ...rest) {
  if (request === 'vscode') return vscode;
  if (request === 'vscode-languageclient/node') return { LanguageClient, TransportKind };
  return load.call(this, request, ...rest);
};
(async () => {
  const ext = require(extension);
  const context = { subscriptions: [] };
  await ext.activate(context);
  events.push({ event: 'subscriptions', count: context.subscriptions.length });
  await ext.deactivate();
  process.stdout.write(JSON.stringify(events));
})().catch((err) => { console.error(err && err.stack ? err.stack : err); process.exit(1); });
"""


# ---------------------------------------------------------------------------------------------------------
# Static checks: the grammar file and the manifest.

def test_grammar_is_json_with_the_relc_scope():
    grammar = json.loads(GRAMMAR.read_text(encoding="utf-8"))
    assert grammar["scopeName"] == "source.relc"
    assert grammar["patterns"], "the grammar has no top-level patterns"
    text = GRAMMAR.read_text(encoding="utf-8")
    missing = sorted({name for name in re.findall(r'"include": "#([^"]+)"', text)} - set(grammar["repository"]))
    assert not missing, f"includes of undefined repository rules: {missing}"
    names = set(re.findall(r'"name": "([^"]+)"', text))
    assert all(name.endswith(".relc") for name in names if name != "relc"), "scope names end in .relc"


def test_extension_manifest():
    manifest = json.loads((EXTENSION / "package.json").read_text(encoding="utf-8"))
    assert (manifest["name"], manifest["publisher"], manifest["main"]) == ("relc", "relc-dev", "./extension.js")
    # vscode-languageclient 9 refuses to start on VS Code before 1.82 (its REQUIRED_VSCODE_VERSION).
    assert manifest["engines"]["vscode"] == "^1.82.0"
    assert manifest["dependencies"]["vscode-languageclient"].startswith("^9")
    [language] = manifest["contributes"]["languages"]
    assert (language["id"], language["extensions"]) == ("relc", [".relc"])
    configuration = json.loads((EXTENSION / language["configuration"]).read_text(encoding="utf-8"))
    assert configuration["comments"]["lineComment"] == "#"
    assert ["{", "}"] in configuration["brackets"]
    assert {"open": '"', "close": '"', "notIn": ["string", "comment"]} in configuration["autoClosingPairs"]
    [grammar] = manifest["contributes"]["grammars"]
    assert (grammar["language"], grammar["scopeName"]) == ("relc", "source.relc")
    assert (EXTENSION / grammar["path"]).resolve() == GRAMMAR
    settings = manifest["contributes"]["configuration"]["properties"]
    assert settings["relc.server.path"]["default"] == "relc"
    assert settings["relc.server.args"]["default"] == ["lsp"]
    assert (EXTENSION / "README.md").is_file() and (EXTENSION / ".vscodeignore").is_file()


# ---------------------------------------------------------------------------------------------------------
# The client: extension.js under node, with stand-ins for the VS Code API.

@pytest.mark.parametrize("settings, command, args", [
    ({}, "relc", ["lsp"]),
    ({"relc.server.path": "/opt/relc/bin/relc", "relc.server.args": ["lsp", "--verbose"]},
     "/opt/relc/bin/relc", ["lsp", "--verbose"]),
], ids=["defaults", "settings"])
def test_extension_starts_relc_lsp_over_stdio(settings, command, args, tmp_path: Path):
    node = require_tool("node")
    script = tmp_path / "client.js"
    script.write_text(CLIENT_JS, encoding="utf-8")
    done = subprocess.run([node, str(script), str(EXTENSION / "extension.js"), json.dumps(settings)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    events = json.loads(done.stdout)
    assert [e["event"] for e in events] == ["new", "start", "subscriptions", "stop"], events
    created = events[0]
    assert created["serverOptions"] == {"command": command, "args": args, "transport": 0}  # TransportKind.stdio
    assert created["documentSelector"] == [{"scheme": "file", "language": "relc"}]
    assert events[2]["count"] >= 1, "the settings listener is disposed with the extension"


# ---------------------------------------------------------------------------------------------------------
# Tokenising with vscode-textmate.

def _cache_root() -> Path:
    """The user cache relc's parser uses too: RELC_CACHE_DIR, else $XDG_CACHE_HOME/relc or ~/.cache/relc."""
    if os.environ.get("RELC_CACHE_DIR"):
        return Path(os.environ["RELC_CACHE_DIR"])
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache") / "relc"


def _installed(prefix: Path) -> bool:
    modules = prefix / "node_modules"
    return ((modules / "vscode-textmate" / "package.json").is_file()
            and (modules / "vscode-oniguruma" / "release" / "onig.wasm").is_file())


def _unavailable(message: str):
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _textmate_modules() -> Path:
    """node_modules holding vscode-textmate and vscode-oniguruma, installed on first use. No lock: each run
    installs into a directory of its own and renames it into place; a run that loses the race drops its copy."""
    npm = require_tool("npm")
    prefix = _cache_root() / "npm-textmate" / "-".join(p.replace("@", "") for p in PACKAGES)
    if _installed(prefix):
        return prefix / "node_modules"
    try:
        prefix.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".install-", dir=prefix.parent))
    except OSError as err:
        _unavailable(f"no cache directory for the npm packages {' '.join(PACKAGES)}: {err}")
    try:
        env = {**os.environ, "npm_config_update_notifier": "false"}
        done = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--prefix", str(staging), *PACKAGES],
                              capture_output=True, text=True, timeout=600, env=env, stdin=subprocess.DEVNULL)
        if done.returncode != 0 or not _installed(staging):
            _unavailable(f"npm install {' '.join(PACKAGES)} failed (exit {done.returncode}):\n"
                         f"{done.stdout}{done.stderr}")
        if prefix.exists() and not _installed(prefix):  # the remains of an interrupted run
            shutil.rmtree(prefix, ignore_errors=True)
        try:
            os.rename(staging, prefix)
        except OSError:
            if not _installed(prefix):  # not another run's finished copy in the way: a real error
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return prefix / "node_modules"


Lines = list[list[tuple[str, ...]]]  # per line, per character: the scopes from outermost to innermost


@pytest.fixture(scope="module")
def tokenize(tmp_path_factory):
    """tokenize({"name": text}) -> {"name": Lines}, one node run for all the texts."""
    node = require_tool("node")
    modules = _textmate_modules()
    script = tmp_path_factory.mktemp("textmate") / "tokenize.js"
    script.write_text(TOKENIZE_JS, encoding="utf-8")

    def run(texts: dict[str, str]) -> dict[str, Lines]:
        done = subprocess.run([node, str(script), str(modules), str(GRAMMAR)], input=json.dumps(texts),
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        result = {}
        for name, lines in json.loads(done.stdout).items():
            result[name] = [[tuple(t["scopes"]) for t in tokens for _ in t["text"]] for tokens in lines]
            for number, (chars, line) in enumerate(zip(result[name], texts[name].split("\n")), 1):
                assert len(chars) == len(line), f"{name}:{number}: the tokens do not cover the line"
        return result

    return run


# What relc's parser reads, mapped to the scope each character of it must carry (any one of them).
COMMENT = ("comment.line.number-sign.relc", "comment.line.double-slash.relc")
KIND = ("storage.type.block.relc", "entity.name.type.block.relc")
LABEL = ("entity.name.section.relc",)
PROPERTY = ("variable.other.property.relc",)
METRIC = ("entity.name.function.metric.relc",)
REFERENCE = ("variable.other.reference.relc",)
BY_TYPE = {
    "STRING": ("string.quoted.double.relc",),
    "RAW_STRING": ("string.quoted.other.raw.relc",),
    "PERCENT": ("constant.numeric.percentage.relc",),
    "DURATION": ("constant.numeric.duration.relc",),
    "NUMBER": ("constant.numeric.relc",),
    "CALENDAR": ("keyword.other.calendar.relc", "constant.language.calendar.relc"),
    "MATCH_OP": ("keyword.operator.match.relc",),
}
BY_TEXT = {
    "import": ("keyword.control.import.relc",),
    "true": ("constant.language.boolean.relc",), "false": ("constant.language.boolean.relc",),
    "=": ("keyword.operator.assignment.relc",),
    "{": ("punctuation.section.braces.begin.relc",), "}": ("punctuation.section.braces.end.relc",),
    "[": ("punctuation.section.brackets.begin.relc",), "]": ("punctuation.section.brackets.end.relc",),
    "(": ("punctuation.section.parens.begin.relc",), ")": ("punctuation.section.parens.end.relc",),
    ",": ("punctuation.separator.comma.relc",), ".": ("punctuation.accessor.relc",),
    "/": ("punctuation.separator.slash.relc",),
}
METRIC_ATTRIBUTES = {"good", "bad", "total", "histogram", "native_histogram"}


class RelcParser:
    """relc's grammar as its parser builds it (LALR), keeping every token, and the comments it skips."""

    def __init__(self):
        self.comments: list[lark.Token] = []
        self.lark = lark.Lark((ROOT / "grammar" / "relc.lark").read_text(encoding="utf-8"), parser="lalr",
                              keep_all_tokens=True, lexer_callbacks={"COMMENT": self.comments.append})

    def parse(self, text: str) -> tuple[lark.Tree, list[lark.Token]]:
        self.comments.clear()
        tree = self.lark.parse(text)
        return tree, list(self.comments)


@pytest.fixture(scope="module")
def relc_parser() -> RelcParser:
    return RelcParser()


def _expected_scopes(text: str, parser: RelcParser) -> list[tuple[lark.Token, tuple[str, ...]]]:
    """Every token relc's parser reads in text (comments too), with the scopes it must have."""
    tree, comments = parser.parse(text)
    by_token: dict[int, tuple[str, ...]] = {}
    for node in tree.iter_subtrees():
        first = node.children[0] if node.children else None
        if node.data == "block":
            by_token[id(first)] = KIND
            label = next((c for c in node.children if isinstance(c, lark.Tree) and c.data == "block_label"), None)
            if label is not None and isinstance(label.children[0], lark.Token):
                by_token[id(label.children[0])] = LABEL + (("storage.type.sli.relc",) if first == "sli" else ())
        elif node.data in ("attribute", "map_entry"):
            if isinstance(first, lark.Token):
                by_token[id(first)] = PROPERTY
            by_token[id(node.children[1])] = BY_TEXT["="]
            value = node.children[2]
            if first in METRIC_ATTRIBUTES and isinstance(value, lark.Tree) and value.data == "ref":
                for name in value.children:
                    if name.type == "NAME":
                        by_token[id(name)] = METRIC + REFERENCE
        elif node.data == "selector":
            by_token[id(first)] = METRIC
        elif node.data == "matcher":
            by_token[id(first)] = ("entity.other.attribute-name.label.relc",)
            by_token[id(node.children[1])] = BY_TYPE["MATCH_OP"]
        elif node.data == "slo_ref":
            by_token[id(node.children[0])] = ("variable.other.reference.service.relc",)
            by_token[id(node.children[2])] = ("variable.other.reference.slo.relc",)
        elif node.data == "call":
            by_token[id(first)] = ("support.function.qualifier.relc",)
        elif node.data == "ref":
            for name in node.children:
                by_token.setdefault(id(name), REFERENCE if name.type == "NAME" else BY_TEXT[name])
    tokens = [t for t in tree.scan_values(lambda v: isinstance(v, lark.Token))]
    expected = [(t, COMMENT) for t in comments]
    for token in tokens:
        scopes = by_token.get(id(token)) or BY_TYPE.get(token.type) or BY_TEXT.get(str(token))
        assert scopes, f"no expectation for {token.type} {token!r}"
        expected.append((token, scopes))
    return expected


def _position(text: str):
    """offset -> (line index, column), for the lines text.split('\\n') gives."""
    starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def at(offset: int) -> tuple[int, int]:
        line = next(i for i in range(len(starts) - 1, -1, -1) if starts[i] <= offset)
        return line, offset - starts[line]
    return at


def _mismatches(name: str, text: str, lines: Lines, parser: RelcParser) -> list[str]:
    at = _position(text)
    covered = set()
    problems = []
    for token, scopes in _expected_scopes(text, parser):
        covered.update(range(token.start_pos, token.end_pos))
        for offset in range(token.start_pos, token.end_pos):
            if text[offset].isspace():
                continue
            line, column = at(offset)
            got = lines[line][column]
            if not set(got) & set(scopes):
                problems.append(f"{name}:{line + 1}:{column + 1}: {text[offset]!r} of {token.type} {str(token)[:40]!r}"
                                f" should be {' or '.join(scopes)}, has {' '.join(got)}")
                break
    for offset, char in enumerate(text):
        if offset not in covered and not char.isspace():
            line, column = at(offset)
            problems.append(f"{name}:{line + 1}:{column + 1}: {char!r} is in no token of relc's parser")
    return problems


def _read(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def _doc_examples(parser: RelcParser) -> dict[str, str]:
    """The ```relc blocks of README.md and docs/*.md that parse (the others show syntax errors on purpose)."""
    found = {}
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        lines = page.read_text(encoding="utf-8").split("\n")
        for i, line in enumerate(lines):
            if line.strip() == "```relc":
                end = next(j for j in range(i + 1, len(lines)) if lines[j].strip() == "```")
                indent = len(line) - len(line.lstrip())
                text = "".join(body[indent:] + "\n" for body in lines[i + 1:end])
                try:
                    parser.parse(text)
                except lark.exceptions.LarkError:
                    continue
                found[f"{page.relative_to(ROOT).as_posix()}:{i + 2}"] = text
    return found


def test_every_example_is_scoped_as_the_parser_reads_it(tokenize, relc_parser):
    """examples/, tests/good/ and the documentation's examples: every character as relc's parser reads it."""
    assert len(SAMPLES) >= 10, SAMPLES
    texts = {path.relative_to(ROOT).as_posix(): _read(path) for path in SAMPLES}
    docs = _doc_examples(relc_parser)
    assert len(docs) >= 20, sorted(docs)
    texts.update(docs)
    tokenized = tokenize(texts)
    problems = [p for name, text in texts.items() for p in _mismatches(name, text, tokenized[name], relc_parser)]
    assert not problems, f"{len(problems)} characters scoped wrongly:\n" + "\n".join(problems[:30])


FIXTURE = r'''# comment "not a string" with 5m and 99.9% in it
// a double-slash comment, "still not a string"
import "lib/policies.relc"   # trailing comment
service checkout {
  description = "tab\tquote\" caf\u00e9 # not a comment // nor this"
  labels = { tier = 1, "component" = "api" }
  slo availability {
    objective = 99.9%
    window = calendar month
    depends_on = [postgres/availability, soft(cache/availability)]
    runbook = checkout-errors
    sli events {
      bad = http_requests_total{job="api", code=~"5..", path!~r"/v\d+/.*", method!="OPTIONS"}
      total = job:http_requests:rate5m
    }
  }
  slo latency {
    objective = 99%
    sli latency {
      histogram = http_request_duration_seconds{job="api"}
      threshold = 300ms
    }
  }
  slo ratio {
    objective = 99.5%
    window = calendar quarter
    sli raw {
      error_ratio = r#"
        sum(rate(x{code="5xx"}[$window]))  # not a comment
        / sum(rate(y[$window]))
      "#
    }
  }
}
alert_policy page-fast {
  tier page { severity = "page"  budget = 2%  long = 1h30m  short = 1.5h }
  tier slow { burn_rate = -1.5e3  long = 2w  short = 2s500ms  enabled = false }
}
budget_policy standard {
  threshold { remaining = 0%  actions = ["Freeze launches", r"C:\logs"] }
}
runbook calendar {
  step "Roll back"
  step "Check" { command = r"kubectl get pods # all" }
}
use "../packs/acme-postgres" {
  params = { window = 30d, namespace = params.namespace }
}
'''


@pytest.fixture(scope="module")
def fixture_lines(tokenize) -> Lines:
    return tokenize({"fixture.relc": FIXTURE})["fixture.relc"]


def _scopes(lines: Lines, line_text: str, needle: str, nth: int = 0) -> list[set[str]]:
    """The scopes of each character of the nth `needle` on the fixture line containing line_text."""
    source = FIXTURE.split("\n")
    index = next(i for i, line in enumerate(source) if line_text in line)
    starts = [m.start() for m in re.finditer(re.escape(needle), source[index])]
    assert len(starts) > nth, f"{needle!r} not found {nth + 1} times in {source[index]!r}"
    return [set(lines[index][c]) for c in range(starts[nth], starts[nth] + len(needle))]


def _is(lines: Lines, line_text: str, needle: str, scope: str, nth: int = 0) -> bool:
    return all(scope in chars for chars in _scopes(lines, line_text, needle, nth))


def _never(lines: Lines, line_text: str, needle: str, prefix: str, nth: int = 0) -> bool:
    return not any(s.startswith(prefix) for chars in _scopes(lines, line_text, needle, nth) for s in chars)


def test_fixture_is_scoped_as_the_parser_reads_it(fixture_lines, relc_parser):
    problems = _mismatches("fixture.relc", FIXTURE, fixture_lines, relc_parser)
    assert not problems, "\n".join(problems)


def test_comments_and_strings(fixture_lines):
    lines = fixture_lines
    assert _is(lines, '# comment "not', '# comment "not a string" with 5m and 99.9% in it', "comment.line.number-sign.relc")
    assert _never(lines, '# comment "not', '"not a string"', "string")
    assert _never(lines, '# comment "not', "5m", "constant")
    assert _is(lines, "// a double-slash", '// a double-slash comment, "still not a string"',
               "comment.line.double-slash.relc")
    assert _is(lines, "import", "import", "keyword.control.import.relc")
    assert _is(lines, "import", '"lib/policies.relc"', "string.quoted.double.relc")
    assert _is(lines, "import", "# trailing comment", "comment.line.number-sign.relc")
    description = r'"tab\tquote\" caf\u00e9 # not a comment // nor this"'
    assert _is(lines, "description", description, "string.quoted.double.relc")
    assert _never(lines, "description", "# not a comment // nor this", "comment")
    assert _is(lines, "description", r"\t", "constant.character.escape.relc")
    assert _is(lines, "description", r"\"", "constant.character.escape.relc")
    assert _is(lines, "description", r"\u00e9", "constant.character.escape.relc")
    assert _is(lines, "command = r", 'r"kubectl get pods # all"', "string.quoted.other.raw.relc")
    assert _never(lines, "command = r", "# all", "comment")
    assert _is(lines, "actions", r'r"C:\logs"', "string.quoted.other.raw.relc")
    assert _never(lines, "actions", r"\l", "constant.character.escape")


def test_raw_string_over_several_lines_is_one_string(fixture_lines):
    source = FIXTURE.split("\n")
    first = next(i for i, line in enumerate(source) if 'error_ratio = r#"' in line)
    last = next(i for i in range(first + 1, len(source)) if source[i].strip() == '"#')
    start = source[first].index('r#"')
    for index in range(first, last + 1):
        for column, char in enumerate(source[index]):
            if (index > first or column >= start) and not char.isspace():
                scopes = fixture_lines[index][column]
                assert "string.quoted.other.raw.relc" in scopes, (source[index], column, scopes)
                assert not any(s.startswith(("comment", "entity", "constant.numeric")) for s in scopes), scopes
    assert _is(fixture_lines, "sum(rate(x", "$window", "variable.language.window.relc")
    # The string is closed: what follows is code again.
    assert _is(fixture_lines, "tier page {", "tier", "storage.type.block.relc")


def test_numbers(fixture_lines):
    lines = fixture_lines
    assert _is(lines, "objective = 99.9%", "99.9%", "constant.numeric.percentage.relc")
    assert _is(lines, "tier page {", "2%", "constant.numeric.percentage.relc")
    assert _is(lines, "tier page {", "1h30m", "constant.numeric.duration.relc")
    assert _is(lines, "tier page {", "5h", "constant.numeric.duration.relc")  # of 1.5h
    assert _is(lines, "tier page {", "1.5h", "constant.numeric.duration.relc")
    assert _is(lines, "tier slow {", "-1.5e3", "constant.numeric.relc")
    assert _is(lines, "tier slow {", "2w", "constant.numeric.duration.relc")
    assert _is(lines, "tier slow {", "2s500ms", "constant.numeric.duration.relc")
    assert _is(lines, "tier slow {", "false", "constant.language.boolean.relc")
    assert _is(lines, "threshold = 300ms", "300ms", "constant.numeric.duration.relc")
    assert _is(lines, "params = {", "30d", "constant.numeric.duration.relc")
    assert _is(lines, "labels = {", "1", "constant.numeric.relc")
    assert _never(lines, "total = job:http", "rate5m", "constant")  # part of a metric name


def test_blocks_attributes_and_values(fixture_lines):
    lines = fixture_lines
    assert _is(lines, "service checkout", "service", "storage.type.block.relc")
    assert _is(lines, "service checkout", "checkout", "entity.name.section.relc")
    assert _is(lines, "sli events", "sli", "storage.type.block.relc")
    assert _is(lines, "sli events", "events", "storage.type.sli.relc")
    assert _is(lines, "slo latency {", "latency", "entity.name.section.relc")
    assert _is(lines, "sli latency {", "latency", "storage.type.sli.relc")
    assert _is(lines, "sli raw", "raw", "storage.type.sli.relc")
    assert _is(lines, "alert_policy page-fast", "alert_policy", "storage.type.block.relc")
    assert _is(lines, "alert_policy page-fast", "page-fast", "entity.name.section.relc")
    assert _is(lines, "tier page {", "page", "entity.name.section.relc")
    assert _is(lines, "tier page {", "severity", "variable.other.property.relc")
    assert _is(lines, "threshold { remaining", "threshold", "storage.type.block.relc")
    assert _is(lines, "threshold = 300ms", "threshold", "variable.other.property.relc")
    assert _is(lines, "runbook = checkout-errors", "runbook", "variable.other.property.relc")
    assert _is(lines, "runbook = checkout-errors", "checkout-errors", "variable.other.reference.relc")
    assert _is(lines, "runbook calendar", "calendar", "entity.name.section.relc")
    assert _is(lines, 'step "Roll back"', "step", "storage.type.block.relc")
    assert _is(lines, 'step "Roll back"', '"Roll back"', "string.quoted.double.relc")
    assert _is(lines, "use ", "use", "storage.type.block.relc")
    assert _is(lines, "objective = 99.9%", "objective", "variable.other.property.relc")
    assert _is(lines, "objective = 99.9%", "=", "keyword.operator.assignment.relc")
    assert _is(lines, "window = calendar month", "calendar", "keyword.other.calendar.relc")
    assert _is(lines, "window = calendar month", "month", "constant.language.calendar.relc")
    assert _is(lines, "window = calendar quarter", "quarter", "constant.language.calendar.relc")
    assert _is(lines, "labels = {", "tier", "variable.other.property.relc")
    assert _is(lines, "labels = {", '"component"', "string.quoted.double.relc")
    assert _is(lines, "params = {", "namespace", "variable.other.property.relc")
    assert _is(lines, "params = {", "params", "variable.other.reference.relc", nth=1)
    assert _is(lines, "params = {", ".", "punctuation.accessor.relc")


def test_selectors_and_references(fixture_lines):
    lines, line = fixture_lines, "bad = http_requests_total"
    assert _is(lines, line, "bad", "variable.other.property.relc")
    assert _is(lines, line, "http_requests_total", "entity.name.function.metric.relc")
    assert _is(lines, line, "{", "punctuation.section.braces.begin.relc")
    for label in ("job", "code", "path", "method"):
        assert _is(lines, line, label, "entity.other.attribute-name.label.relc")
    for operator in ("=~", "!~", "!="):
        assert _is(lines, line, operator, "keyword.operator.match.relc")
    assert _is(lines, line, '"api"', "string.quoted.double.relc")
    assert _is(lines, line, '"5.."', "string.quoted.double.relc")
    assert _is(lines, line, r'r"/v\d+/.*"', "string.quoted.other.raw.relc")
    assert _is(lines, line, ",", "punctuation.separator.comma.relc")
    assert _is(lines, "total = job:http", "job:http_requests:rate5m", "entity.name.function.metric.relc")
    assert _is(lines, "histogram = ", "http_request_duration_seconds", "entity.name.function.metric.relc")
    line = "depends_on"
    assert _is(lines, line, "depends_on", "variable.other.property.relc")
    assert _is(lines, line, "[", "punctuation.section.brackets.begin.relc")
    assert _is(lines, line, "postgres", "variable.other.reference.service.relc")
    assert _is(lines, line, "/", "punctuation.separator.slash.relc")
    assert _is(lines, line, "availability", "variable.other.reference.slo.relc")
    assert _is(lines, line, "soft", "support.function.qualifier.relc")
    assert _is(lines, line, "(", "punctuation.section.parens.begin.relc")
    assert _is(lines, line, "cache", "variable.other.reference.service.relc")
    assert _is(lines, line, "availability", "variable.other.reference.slo.relc", nth=1)
    assert _is(lines, line, "]", "punctuation.section.brackets.end.relc")
