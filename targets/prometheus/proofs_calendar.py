"""The proof that a calendar SLO's budget resets when its period starts (in its time zone), and not before.

Errors at half the budget rate run from the start of the data until five minutes before the first period
boundary, so that no 5m rate straddles it (one that does counts in the new period: docs/language.md 5.3). At the
last evaluation before that the period's error ratio is the error rate and the remaining budget is 1 - burn x
coverage (coverage: the wall-clock share of the period since relc's series began); at the first evaluation in
the new period the ratio is 0 and the whole budget is back. promtool's clock starts at
1970-01-01T00:00Z; the generated offsets give a zone its first covered year's offset before then, which
promql_calendar.period_bounds models.
"""
from __future__ import annotations

from fractions import Fraction

from relc.compiler.check.promql import quote
from relc.compiler.model import ir as ir
from relc.targets.prometheus.calendar import PERIOD_RATIO
from relc.targets.prometheus.rules import REMAINING
from relc.targets.prometheus.synthetic import Run
from relc.targets.shared.promql_calendar import offset_at, period_bounds

EVAL_S = {"week": 3 * 3600, "month": 3 * 3600, "quarter": 12 * 3600}
INPUT_S = 150            # two samples in every 5m rate window, under either range semantics
BURN = Fraction(1, 2)    # errors at half the budget rate: the SLO is met, the budget visibly spent


def calendar_reset(ctx, scenario_type) -> object:
    """The scenario for proofs.plan: `ctx` is its Context, `scenario_type` its Scenario class."""
    slo: ir.SLO = ctx.slo
    eval_s = EVAL_S[slo.calendar]
    start, boundary = period_bounds(slo.calendar, slo.timezone, 0)
    stop = int(boundary) - 300                                    # errors end; the last 5m window is all errors
    before = stop // eval_s * eval_s                               # the last evaluation whose rate is all errors
    after = -(-int(boundary) // eval_s) * eval_s                   # the first evaluation in the new period
    end = after + eval_s
    bad = max(1, round(float(BURN * ctx.budget) * ctx.n))
    ratio = Fraction(bad, ctx.n)
    since = -(-INPUT_S // eval_s) * eval_s                        # the first evaluation whose 5m rate has 2 samples
    run = Run(ctx.n, ((0, stop, bad),), eval_s, int(end), ctx.good_form, float(ctx.budget), INPUT_S)
    coverage = min(Fraction(int(before - since)), _wall(slo, before) - _wall(slo, start)) / \
        (_wall(slo, boundary) - _wall(slo, start))
    remaining = 1 - ratio / ctx.budget * coverage
    sel = "{" + f"service={quote(slo.service)},slo={quote(slo.name)}" + "}"
    sc = scenario_type("calendar-reset", run, [
        f"Errors at {float(ratio / ctx.budget):g}x the budget rate ({bad} of {ctx.n} events per {INPUT_S}s step) "
        f"from the start until 5m before the first calendar {slo.calendar} boundary at {int(boundary)}s "
        f"({slo.timezone or 'UTC'}), then none. Evaluation every {eval_s}s.",
        f"At {int(before)}s the period's error ratio is {float(ratio):g} and {float(remaining):.9f} of the budget "
        f"is left (coverage {float(coverage):.9f}); at {int(after)}s the new period has no errors: all of it."])
    sc.checks += [_near(f"{PERIOD_RATIO}{sel}", ratio, before), _near(f"{REMAINING}{sel}", remaining, before),
                  _near(f"{PERIOD_RATIO}{sel}", Fraction(0), after), _near(f"{REMAINING}{sel}", Fraction(1), after)]
    return sc


def _wall(slo: ir.SLO, t: float) -> Fraction:
    return Fraction(int(t + offset_at(slo.timezone, t)))


def _near(expr: str, value: Fraction, at: int) -> dict:
    """One series within a billionth of `value` (recorded floats are sums of thousands of rates)."""
    tolerance = max(abs(float(value)) * 1e-9, 1e-12)
    return {"expr": f"count(abs({expr} - {float(value)!r}) <= {tolerance!r})", "eval_time": f"{int(at)}s",
            "exp_samples": [{"labels": "{}", "value": 1}]}
