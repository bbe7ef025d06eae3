#!/usr/bin/env python3
"""Cross-check pds's statistics against SciPy and statsmodels.

Usage: python3 scripts/stats_crosscheck.py CASES.json

CASES.json is written by `pds::stats::crosscheck_cases(seed, n)`: random inputs of
each kind, each with pds's own answer under "rust". This script computes the same
figures independently and prints JSON:

    {"reference": {"wilson": [[low, high], ...], "ztest": [...], ...},
     "checked": N, "mismatches": [{"kind": ..., "case": i, "field": ..., ...}]}

It exits 0 when every answer agrees within tolerance, 1 when any does not, and 2
on bad usage or a missing dependency (pip install scipy statsmodels).

References: statsmodels proportion_confint(method="wilson"), proportions_ztest,
confint_proportions_2indep(method="newcomb"), multipletests(method="fdr_bh"),
mcnemar(exact=True); scipy.stats chi2_contingency (Yates when dof = 1) and
kendalltau (tau-b). Checklist figures (A, B, crawford-v1, joint-v1, preemptible,
the staff gap's top-k overlap and tau-b) are recomputed with numpy from the raw
answers.
"""

import json
import math
import sys

try:
    import numpy as np
    from scipy.stats import chi2_contingency, kendalltau
    from statsmodels.stats.contingency_tables import mcnemar
    from statsmodels.stats.multitest import multipletests
    from statsmodels.stats.proportion import (
        confint_proportions_2indep,
        proportion_confint,
        proportions_ztest,
    )
except ImportError as missing:  # pragma: no cover - depends on the machine
    print(f"stats_crosscheck: {missing}; run: pip install scipy statsmodels", file=sys.stderr)
    sys.exit(2)

# pds uses z = 1.959964 (docs/METHOD.md §5); SciPy uses the exact 1.959963984540054.
# That difference moves Wilson and Newcombe bounds by about 1e-9.
TOLERANCE = {
    "wilson": 1e-7,
    "newcombe": 1e-7,
    "z": 1e-9,
    "p": 1e-9,
    "statistic": 1e-9,
    "bh": 1e-12,
    "mcnemar": 1e-10,
    "kendall": 1e-12,
}


def close(ours, theirs, tolerance):
    if ours is None or theirs is None:
        return ours is None and theirs is None
    theirs = float(theirs)
    if math.isnan(theirs):
        return False
    return abs(ours - theirs) <= tolerance * max(1.0, abs(theirs))


def joint_scores(answers):
    """Checklist joint-v1 per area: mean of often x (bother - 1) / 4 (docs/METHOD.md §4)."""
    cells = np.array(answers, dtype=float)  # respondents x areas x [experienced, bother, solved]
    often = cells[:, :, 0] == 2
    return (often * np.maximum(cells[:, :, 1] - 1, 0) / 4).mean(axis=0), cells


def checklist_figures(case):
    """A, B, crawford-v1, joint-v1, preemptible and the staff gap's overlap and tau-b,
    computed with numpy and SciPy from the raw answers."""
    joint, cells = joint_scores(case["customers"])
    staff_joint, _ = joint_scores(case["staff"])
    often = cells[:, :, 0] == 2
    rated = cells[:, :, 1] > 0
    bothered = cells[:, :, 1] >= 4
    a = often.mean(axis=0)
    b = np.where(rated.sum(axis=0) > 0, bothered.sum(axis=0) / np.maximum(rated.sum(axis=0), 1), 0.0)
    affected = cells[:, :, 0] > 0
    asked = affected & (cells[:, :, 2] >= 0)
    solved = asked & (cells[:, :, 2] == 1)
    preemptible = [
        float(joint[j] * (1 - solved[:, j].sum() / asked[:, j].sum())) if asked[:, j].sum() > 0 else None
        for j in range(len(joint))
    ]
    k = min(case["top_k"], len(joint))
    # Top k by score, ties by area index (a stable sort of the negated scores).
    top = lambda scores: set(np.argsort(-np.asarray(scores), kind="stable")[:k].tolist())
    overlap = len(top(joint) & top(staff_joint)) / k if k else 0.0
    tau = kendalltau(staff_joint, joint, variant="b").statistic
    return {
        "a": a.tolist(),
        "b": b.tolist(),
        "crawford": (a * b).tolist(),
        "joint": joint.tolist(),
        "preemptible": preemptible,
        "overlap": overlap,
        "tau": None if tau is None or math.isnan(tau) else float(tau),
    }


def main(path):
    with open(path, encoding="utf-8") as handle:
        cases = json.load(handle)

    reference = {}
    mismatches = []
    checked = 0

    def check(kind, index, field, ours, theirs, tolerance):
        nonlocal checked
        checked += 1
        if not close(ours, theirs, tolerance):
            mismatches.append(
                {"kind": kind, "case": index, "field": field, "rust": ours, "reference": float(theirs)}
            )

    out = reference.setdefault("wilson", [])
    for i, case in enumerate(cases.get("wilson", [])):
        low, high = proportion_confint(case["k"], case["n"], alpha=0.05, method="wilson")
        low, high = max(0.0, float(low)), min(1.0, float(high))
        out.append([low, high])
        if "rust" in case:
            check("wilson", i, "low", case["rust"][0], low, TOLERANCE["wilson"])
            check("wilson", i, "high", case["rust"][1], high, TOLERANCE["wilson"])

    out = reference.setdefault("ztest", [])
    for i, case in enumerate(cases.get("ztest", [])):
        counts = np.array([case["k1"], case["k2"]])
        nobs = np.array([case["n1"], case["n2"]])
        z, p = proportions_ztest(counts, nobs, value=0, alternative="two-sided")
        low, high = confint_proportions_2indep(
            case["k1"], case["n1"], case["k2"], case["n2"], method="newcomb", compare="diff"
        )
        diff = case["k1"] / case["n1"] - case["k2"] / case["n2"]
        out.append({"z": float(z), "p": float(p), "diff": diff, "ci": [float(low), float(high)]})
        if "rust" in case:
            ours = case["rust"]
            check("ztest", i, "z", ours["z"], z, TOLERANCE["z"])
            check("ztest", i, "p", ours["p"], p, TOLERANCE["p"])
            check("ztest", i, "diff", ours["diff"], diff, 1e-12)
            check("ztest", i, "ci.low", ours["ci"][0], low, TOLERANCE["newcombe"])
            check("ztest", i, "ci.high", ours["ci"][1], high, TOLERANCE["newcombe"])

    out = reference.setdefault("chi2", [])
    for i, case in enumerate(cases.get("chi2", [])):
        table = np.array(case["table"])
        statistic, p, dof, _ = chi2_contingency(table, correction=True)
        yates = int(dof) == 1
        out.append({"statistic": float(statistic), "p": float(p), "dof": int(dof), "yates": yates})
        if "rust" in case:
            ours = case["rust"]
            check("chi2", i, "statistic", ours["statistic"], statistic, TOLERANCE["statistic"])
            check("chi2", i, "p", ours["p"], p, TOLERANCE["p"])
            check("chi2", i, "dof", ours["dof"], dof, 0)
            check("chi2", i, "yates", float(ours["yates"]), float(yates), 0)

    out = reference.setdefault("bh", [])
    for i, case in enumerate(cases.get("bh", [])):
        adjusted = multipletests(case["p"], alpha=0.05, method="fdr_bh")[1]
        out.append([float(x) for x in adjusted])
        if "rust" in case:
            if len(case["rust"]) != len(adjusted):
                mismatches.append({"kind": "bh", "case": i, "field": "length"})
                continue
            for j, (ours, theirs) in enumerate(zip(case["rust"], adjusted)):
                check("bh", i, f"p[{j}]", ours, theirs, TOLERANCE["bh"])

    out = reference.setdefault("mcnemar", [])
    for i, case in enumerate(cases.get("mcnemar", [])):
        p = mcnemar(np.array(case["table"]), exact=True).pvalue
        out.append(float(p))
        if "rust" in case:
            check("mcnemar", i, "p", case["rust"], p, TOLERANCE["mcnemar"])

    out = reference.setdefault("kendall", [])
    for i, case in enumerate(cases.get("kendall", [])):
        tau = kendalltau(case["x"], case["y"], variant="b").statistic
        out.append(float(tau))
        if "rust" in case:
            check("kendall", i, "tau_b", case["rust"], tau, TOLERANCE["kendall"])

    out = reference.setdefault("checklist", [])
    for i, case in enumerate(cases.get("checklist", [])):
        figures = checklist_figures(case)
        out.append(figures)
        if "rust" in case:
            ours = case["rust"]
            for field in ("a", "b", "crawford", "joint", "preemptible"):
                for j, (mine, theirs) in enumerate(zip(ours[field], figures[field])):
                    if theirs is None or mine is None:
                        checked += 1
                        if (theirs is None) != (mine is None):
                            mismatches.append({"kind": "checklist", "case": i, "field": f"{field}[{j}]"})
                    else:
                        check("checklist", i, f"{field}[{j}]", mine, theirs, 1e-12)
            for field in ("overlap", "tau"):
                if figures[field] is None or ours[field] is None:
                    checked += 1
                    if (figures[field] is None) != (ours[field] is None):
                        mismatches.append({"kind": "checklist", "case": i, "field": field})
                else:
                    check("checklist", i, field, ours[field], figures[field], 1e-12)

    print(json.dumps({"reference": reference, "checked": checked, "mismatches": mismatches}))
    if mismatches:
        print(f"stats_crosscheck: {len(mismatches)} of {checked} figures disagree", file=sys.stderr)
        return 1
    print(f"stats_crosscheck: all {checked} figures agree", file=sys.stderr)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
