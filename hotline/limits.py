"""Limits shared by forms, the API schema and the services (each number once)."""
from __future__ import annotations

# The years a date may fall in where people type one (holiday calendars, deadlines worked out through
# the API, knowledge articles' validity): the calendar covers no more.
YEAR_MIN, YEAR_MAX = 2000, 2100

# Text fields of a case (and of what is copied into one: a knowledge article's answer fills a case's answer).
SUMMARY_MAX = 200
DETAIL_MAX = 5000
TEXT_MAX = 2000

# A knowledge article: the question as callers ask it, and the answer, which fills a case's answer.
QUESTION_MAX = 2000
ANSWER_MAX = TEXT_MAX
