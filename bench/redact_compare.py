#!/usr/bin/env python3
"""Redaction on the corpus (tests/redact_corpus.py): recall and over-redaction per kind, and speed.

Usage:
  .venv/bin/python bench/redact_compare.py                  # this branch's hotline/redact.py
  .venv/bin/python bench/redact_compare.py --old main       # the redactor as it is on a git revision
  .venv/bin/python bench/redact_compare.py --day            # time 200 candidates, a day's worth
  OTHER_PY=/path/to/venv/bin/python bench/redact_compare.py --jionlp   # jionlp's extractors (own venv)

The jionlp run needs the package in a separate environment (it is not a dependency of the project):
the corpus is written to a JSON file, the other interpreter redacts it with jionlp's extractors
(phone, landline, ID, e-mail, QQ, WeChat, plate, bank card, address?) plus its name recogniser if any,
and the results are measured here the same way.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from redact_corpus import CORPUS, measure, table  # noqa: E402

JIONLP_SCRIPT = r'''
import json, sys, time, re
import jionlp as jio
corpus = json.load(open(sys.argv[1], encoding="utf-8"))
t0 = time.perf_counter()
out = []
for text in corpus:
    # jionlp's cleaners replace what its extractors find (phone, e-mail, ID, QQ, URL, IP …)
    t = jio.replace_phone_number(text, " ")
    t = jio.replace_email(t, " ")
    t = jio.replace_id_card(t, " ")
    t = jio.replace_qq(t, " ")
    t = jio.replace_url(t, " ")
    # its person-name recogniser is a lexicon lookup
    try:
        for name in jio.extract_person_name(t) if hasattr(jio, "extract_person_name") else []:
            t = t.replace(name, "")
    except Exception:
        pass
    # its address parser on the whole text: the detail part dropped
    out.append(t)
elapsed = time.perf_counter() - t0
json.dump({"out": out, "seconds": elapsed}, open(sys.argv[2], "w", encoding="utf-8"), ensure_ascii=False)
'''


def load_old(rev: str):
    source = subprocess.run(["git", "show", f"{rev}:hotline/redact.py"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / "old_redact.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("old_redact", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def timed(redactor) -> tuple[dict, float]:
    redactor(CORPUS[0])  # warm (jieba loads its dictionary once)
    start = time.perf_counter()
    result = measure(redactor)
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", metavar="REV", help="measure hotline/redact.py as it is on this git revision")
    parser.add_argument("--jionlp", action="store_true", help="measure jionlp's extractors (OTHER_PY interpreter)")
    parser.add_argument("--jieba-only", action="store_true", help="numbers by the new rules, names only by jieba")
    parser.add_argument("--day", action="store_true", help="time a day's 200 candidates")
    parser.add_argument("--show", type=int, default=0, help="print this many leaks and lost terms")
    args = parser.parse_args()

    if args.day:
        from hotline.redact import redact

        texts = [(s.text, s.names, s.employers) for s in CORPUS if s.kind != "clean"]
        day = [texts[i % len(texts)] for i in range(200)]
        redact("预热")
        runs = []
        from hotline.redact import _redact_cached

        for _ in range(5):
            _redact_cached.cache_clear()  # every run redacts afresh (a build reuses earlier results)
            start = time.perf_counter()
            for text, names, employers in day:
                redact(text, names=names, employers=employers)
            runs.append(time.perf_counter() - start)
        chars = sum(len(t) for t, _n, _e in day)
        print(f"200 candidates ({chars} characters): median {statistics.median(runs) * 1000:.0f} ms, "
              f"max {max(runs) * 1000:.0f} ms over {len(runs)} runs (target ≤ 1 s)")
        return

    if args.old:
        old = load_old(args.old)
        result, seconds = timed(lambda s: old.redact(s.text, names=s.names, employers=s.employers))
        title = f"hotline/redact.py on {args.old}"
    elif args.jionlp:
        other = os.environ.get("OTHER_PY")
        if not other:
            sys.exit("set OTHER_PY to a python that has jionlp installed")
        with tempfile.TemporaryDirectory() as tmp:
            src, dst = Path(tmp) / "in.json", Path(tmp) / "out.json"
            src.write_text(json.dumps([s.text for s in CORPUS], ensure_ascii=False), encoding="utf-8")
            script = Path(tmp) / "run.py"
            script.write_text(JIONLP_SCRIPT, encoding="utf-8")
            subprocess.run([other, str(script), str(src), str(dst)], check=True)
            data = json.loads(dst.read_text(encoding="utf-8"))
        outputs = dict(zip((id(s) for s in CORPUS), data["out"]))
        result, _ = timed(lambda s: outputs[id(s)])
        seconds = data["seconds"]
        title = "jionlp extractors (phone, e-mail, ID, QQ, URL replaced; person names by its lexicon)"
    else:
        from hotline.redact import redact

        result, seconds = timed(lambda s: redact(s.text, names=s.names, employers=s.employers))
        title = "hotline/redact.py (this branch)"
    print(table(result, title))
    print(f"  time for the {result['sentences']} sentences: {seconds * 1000:.0f} ms")
    for kind, span, output in result["leaks"][: args.show]:
        print(f"  LEAK {kind}: {span} → {output}")
    for term, text, output in result["lost"][: args.show]:
        print(f"  LOST {term}: {text} → {output}")


if __name__ == "__main__":
    main()
