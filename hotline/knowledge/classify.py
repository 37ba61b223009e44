"""Suggested type, category and department: a classifier learnt from the union's own closed cases,
with keywords and the knowledge base to fall back on while there is too little history.

The scheduled job `classifier` (hotline run-job classifier) trains one TF-IDF vectoriser over the jieba words
and character pairs of the summaries (hotline/knowledge/text.py) and one logistic regression per field, on a
random 80 % of the closed cases; the other 20 % give the held-out accuracy (top-1 and top-3) that is stored
with the model and shown to admins. The classifier is multinomial naive Bayes over TF-IDF (as accurate as
logistic regression here, hundreds of times faster to train). A suggestion averages the model's and the
keywords' confidence: measured better on the hand-written summaries than either alone (docs/benchmarks.md). Each process keeps the newest model in memory.
"""
from __future__ import annotations

import io
import logging
import pickle
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from hotline import clock
from hotline.cases.models import Case
from hotline.extensions import db
from hotline.knowledge import text as kt
from hotline.knowledge.models import ClassifierModel
from hotline.reference.models import Category, Department

log = logging.getLogger(__name__)
FIELDS = ("type", "category", "department")
MIN_HISTORY = 200  # closed cases needed before the classifier is trusted over the keywords
MAX_TRAIN = 60_000  # the newest closed cases a run learns from
TEST_SHARE = 0.2

# ---------------------------------------------------------------- keywords (the fallback)

CATEGORY_WORDS: dict[str, tuple[str, ...]] = {
    "wages": ("工资", "欠薪", "拖欠", "讨薪", "加班费", "工钱", "薪水", "克扣", "年终奖", "绩效", "最低工资", "提成",
              "奖金", "结算", "包工头", "发薪"),
    "contract": ("劳动合同", "合同", "辞退", "开除", "解除", "试用期", "调岗", "降薪", "续签", "双倍工资", "派遣",
                 "离职", "辞职", "经济补偿", "竞业", "裁员", "违约金", "押金", "扣证件"),
    "insurance": ("社保", "社会保险", "医保", "养老", "公积金", "失业金", "失业保险", "生育保险", "断缴", "补缴",
                  "参保", "退休", "养老金"),
    "injury": ("工伤", "受伤", "职业病", "伤残", "鉴定", "摔伤", "砸伤", "骨折", "事故", "尘肺", "上下班途中",
               "工亡"),
    "dispute": ("仲裁", "劳动争议", "调解", "起诉", "法院", "判决", "裁决", "诉讼", "执行"),
    "union": ("工会", "入会", "会员", "会费", "组建", "职代会", "集体协商", "集体合同", "工会主席", "厂务公开"),
    "women": ("怀孕", "孕期", "产假", "哺乳", "女职工", "生育", "流产", "产检", "性骚扰", "三期", "孕妇"),
    "hardship": ("困难", "帮扶", "救助", "大病", "补助", "送温暖", "低保", "生活困难", "重病", "助学"),
    "employment": ("就业", "求职", "招聘", "找工作", "失业", "再就业", "创业", "岗位", "职业介绍", "用工信息"),
    "education": ("培训", "学历", "技能", "夜校", "上学", "考证", "证书", "求学", "继续教育", "职业技能"),
    "counselling": ("心理", "压力", "焦虑", "抑郁", "情绪", "失眠", "想不开", "倾诉", "心情", "苦闷"),
}
TYPE_WORDS: dict[str, tuple[str, ...]] = {
    "legal_aid": ("法律援助", "律师", "起诉", "仲裁", "打官司", "诉讼", "代理", "申请援助", "维权援助"),
    "complaint": ("投诉", "举报", "不作为", "反映问题", "要求查处", "违法", "多人", "集体", "农民工", "上访"),
    "suggestion": ("建议", "希望开设", "提议", "意见", "呼吁", "倡议"),
    "help": ("帮扶", "帮助", "困难", "救助", "补助", "介绍工作", "心理疏导", "慰问", "求助", "报名"),
}
DEPARTMENT_FOR: dict[str, str] = {
    "wages": "rights", "contract": "legal_aid", "insurance": "rights", "injury": "legal_aid",
    "dispute": "mediation", "union": "organization", "women": "women", "hardship": "assistance",
    "employment": "service", "education": "publicity", "counselling": "service", "other": "office",
}


def _keyword_scores(text: str, table: dict[str, tuple[str, ...]]) -> dict[str, float]:
    scores: dict[str, float] = {}
    for code, words in table.items():
        hit = sum(len(w) for w in words if w in text)
        if hit:
            scores[code] = float(hit)
    return scores


def _normalised(scores: dict[str, float], default: str, floor: float = 0.15) -> list[tuple[str, float]]:
    if not scores:
        return [(default, floor)]
    total = sum(scores.values()) + 2.0  # a little doubt, even with a clear hit
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
    return [(code, round(score / total, 3)) for code, score in ranked]


def keyword_guess(text: str, article_category: str | None = None) -> dict[str, list[tuple[str, float]]]:
    cat_scores = _keyword_scores(text, CATEGORY_WORDS)
    if article_category:  # the best matching article's category counts like a long keyword
        cat_scores[article_category] = cat_scores.get(article_category, 0.0) + 3.0
    categories = _normalised(cat_scores, "other")
    types = _normalised(_keyword_scores(text, TYPE_WORDS), "consult", 0.4)
    if types[0][0] != "consult":
        types.append(("consult", 0.2))
    departments: list = []
    for code, conf in categories:
        dept = DEPARTMENT_FOR.get(code, "office")
        if dept not in [d for d, _c in departments]:
            departments.append((dept, conf))
    if types[0][0] == "legal_aid" and departments[0][0] != "legal_aid":
        departments.insert(0, ("legal_aid", types[0][1]))
    return {"type": types[:3], "category": categories[:3], "department": departments[:3]}


# ---------------------------------------------------------------- the learnt model

def analyzer(value: str) -> list[str]:
    """The features of one summary (module level, so the pickled vectoriser finds it again)."""
    return kt.features(value)


@dataclass
class Trained:
    vectorizer: Any
    models: dict[str, Any]
    meta: dict[str, Any] = field(default_factory=dict)

    def predict(self, text: str, top: int = 3) -> dict[str, list[tuple[str, float]]]:
        x = self.vectorizer.transform([text])
        out = {}
        for name, model in self.models.items():
            probs = model.predict_proba(x)[0]
            order = probs.argsort()[::-1][:top]
            out[name] = [(str(model.classes_[i]), round(float(probs[i]), 3)) for i in order]
        return out

    def predict_many(self, texts: list[str], top: int = 3) -> dict[str, list[list[str]]]:
        x = self.vectorizer.transform(texts)
        out = {}
        for name, model in self.models.items():
            probs = model.predict_proba(x)
            order = probs.argsort(axis=1)[:, ::-1][:, :top]
            out[name] = [[str(model.classes_[i]) for i in row] for row in order]
        return out


def training_rows(limit: int = MAX_TRAIN) -> list[tuple[str, str, str, str | None]]:
    """(summary, type, category, department) of the newest closed cases (merged duplicates left out)."""
    dept_codes = dict(db.session.execute(select(Department.id, Department.code)).tuples().all())
    cat_codes = dict(db.session.execute(select(Category.id, Category.code)).tuples().all())
    stmt = (select(Case.summary, Case.type_code, Case.category_id, Case.department_id)
            .where(Case.status == "closed", Case.merged_into_id.is_(None)).order_by(Case.id.desc()).limit(limit))
    return [(s, t, cat_codes[c], dept_codes.get(d)) for s, t, c, d in db.session.execute(stmt)]


def fit(rows: list[tuple[str, str, str, str | None]]) -> Trained:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.naive_bayes import MultinomialNB

    vectorizer = TfidfVectorizer(analyzer=analyzer, sublinear_tf=True, min_df=2)
    x = vectorizer.fit_transform([r[0] for r in rows])
    models = {}
    for index, name in enumerate(FIELDS, start=1):
        labelled = [i for i, r in enumerate(rows) if r[index]]
        labels = [rows[i][index] for i in labelled]
        if len(set(labels)) < 2:
            continue
        # Measured against logistic regression and SGD (bench/suggest_bench.py): as accurate on the held-out
        # split and the hand-written summaries, and trained in a fraction of a second instead of minutes.
        model = MultinomialNB(alpha=0.1)
        model.fit(x[labelled], labels)
        models[name] = model
    return Trained(vectorizer, models)


def accuracy(trained: Trained, rows: list[tuple[str, str, str, str | None]]) -> dict[str, dict[str, float | int]]:
    """Top-1 and top-3 accuracy per field over rows (department: over the dispatched ones)."""
    predicted = trained.predict_many([r[0] for r in rows]) if rows else {}
    out = {}
    for index, name in enumerate(FIELDS, start=1):
        pairs = [(r[index], p) for r, p in zip(rows, predicted.get(name, [])) if r[index]]
        n = len(pairs)
        out[name] = {"n": n,
                     "top1": round(sum(1 for truth, p in pairs if p[:1] == [truth]) / n, 4) if n else None,
                     "top3": round(sum(1 for truth, p in pairs if truth in p[:3]) / n, 4) if n else None}
    return out


def train(seed: int = 12351) -> dict[str, Any]:
    """The scheduled job: learn from the closed cases, store the model with its held-out accuracy."""
    rows = training_rows()
    if len(rows) < MIN_HISTORY:
        return {"trained": 0, "closed_cases": len(rows)}
    started = time.monotonic()
    rnd = random.Random(seed)
    rows = list(rows)
    rnd.shuffle(rows)
    cut = max(1, int(len(rows) * TEST_SHARE))
    test, learn = rows[:cut], rows[cut:]
    trained = fit(learn)
    scores = accuracy(trained, test)
    buffer = io.BytesIO()
    pickle.dump({"vectorizer": trained.vectorizer, "models": trained.models}, buffer, protocol=5)
    record = ClassifierModel(trained_at=clock.now(), train_cases=len(learn), test_cases=len(test),
                             accuracy=scores, blob=buffer.getvalue())
    db.session.add(record)
    db.session.flush()
    log.info("classifier %s trained on %d cases in %.1f s: %s", record.id, len(learn),
             time.monotonic() - started, scores)
    return {"trained": 1, "closed_cases": len(rows), "model": record.id}


def latest_record() -> ClassifierModel | None:
    return db.session.scalar(select(ClassifierModel).order_by(ClassifierModel.id.desc()).limit(1))


_lock = threading.Lock()
_loaded: dict[str, Any] = {"id": None, "model": None}


def current() -> Trained | None:
    """The newest stored model, or None while there is none. One small query per call finds out whether a newer
    model was stored (by this process or another); the unpickled model is kept per process."""
    row = db.session.execute(select(ClassifierModel.id, ClassifierModel.trained_at)
                             .order_by(ClassifierModel.id.desc()).limit(1)).first()
    with _lock:
        if row is None:
            return None
        newest = (row.id, row.trained_at)
        if newest != _loaded["id"]:
            record = db.session.get(ClassifierModel, row.id)
            parts = pickle.loads(record.blob)  # noqa: S301 (our own table, written by train())
            _loaded.update(id=newest, model=Trained(parts["vectorizer"], parts["models"],
                                                    {"id": row.id, "accuracy": record.accuracy}))
        return _loaded["model"]


def guess(text: str, article_category: str | None = None) -> tuple[dict[str, list[tuple[str, float]]], str]:
    """Top-3 (code, confidence) per field and where they came from: "model" or "keywords"."""
    keywords = keyword_guess(text, article_category)
    model = current()
    if model is None:
        return keywords, "keywords"
    learnt = model.predict(text)
    return {name: blend(learnt[name], keywords[name]) if learnt.get(name) else keywords[name]
            for name in FIELDS}, "model"


def blend(learnt: list[tuple[str, float]], keywords: list[tuple[str, float]], top: int = 3) -> list[tuple[str, float]]:
    """The average of the model's and the keywords' confidence per code, best first."""
    scores: dict[str, float] = {}
    for source in (learnt, keywords):
        for code, conf in source:
            scores[code] = scores.get(code, 0.0) + conf / 2
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return [(code, round(conf, 3)) for code, conf in ranked]
