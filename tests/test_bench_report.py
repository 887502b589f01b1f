"""Benchmarks you can trust: a missed target fails `make bench`, and the README's figures are the
recorded ones (generated from bench/results.json, never typed by hand)."""

from __future__ import annotations

import json

from bench import report


def test_a_missed_target_makes_bench_fail():
    ok = {"name": "a", "value": 1.0, "unit": "s", "target": "<= 2", "ok": True}
    info = {"name": "b", "value": 3.0, "unit": "s", "target": "info", "ok": None}
    miss = {"name": "c", "value": 9.0, "unit": "s", "target": "<= 2", "ok": False}
    assert report.exit_status([ok, info], []) == 0
    assert report.exit_status([ok, miss, info], []) == 1
    assert report.exit_status([ok], ["bench_broken"]) == 1


def test_the_readme_table_is_the_recorded_results():
    results = json.loads(report.RESULTS.read_text())
    readme = report.README.read_text()
    assert report.render_readme(readme, results) == readme, "run .venv/bin/python bench/report.py"
    for row in results["results"]:
        assert row["name"].replace("|", "/") in readme
    assert readme.count("**missed**") == len(report.missed(results["results"]))


def test_a_partial_run_keeps_each_rows_own_date():
    row = {"name": "x", "value": 1.0, "unit": "s", "target": "<= 2", "ok": True}
    one = report.table({"when": "T1", "machine": {"cpus": 2}, "results": [{**row, "bench": "a"}]})
    assert one.startswith("Recorded T1 on 2 cores.")
    two = report.table({"when": "T2", "machine": {"cpus": 2},
                        "results": [{**row, "bench": "a", "when": "T1"}, {**row, "bench": "b", "when": "T2"}]})
    assert two.startswith("Recorded on 2 cores: a T1; b T2.")
