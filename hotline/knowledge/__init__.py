"""Intake help (知识库, suggested classification, similar cases, 群体性预警)."""
