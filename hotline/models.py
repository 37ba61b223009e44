"""Imports every model so that metadata (and Alembic) sees every table."""
from hotline.orgs.models import Organisation  # noqa: F401
from hotline.auth.models import ApiToken, LoginAttempt, User, UserRole, UserSession  # noqa: F401
from hotline.cases.models import Case, CaseCounter, CaseEvent  # noqa: F401
from hotline.reference.models import CaseType, Category, Department  # noqa: F401
from hotline.workdays.models import CalendarDay, CalendarYear  # noqa: F401
from hotline.notify.models import CaseFlag, JobLease, Notice  # noqa: F401
from hotline.telephony.models import Call, Callback, CallbackAttempt, InboundSms, SmsConsent, SurveyRequest, TelephonySettings  # noqa: F401,E501
from hotline.reports.models import ix_hotline_case_closed_at, ix_hotline_case_report  # noqa: F401
from hotline.reports.models import ReportDay, ReportDayClosed, ReportRollup, ix_telephony_call_figures  # noqa: F401
from hotline.reports import daily as _daily  # noqa: F401,E402  (its listener keeps the daily figures exact)
from hotline.radio.models import CallIn, Episode, Programme  # noqa: F401
from hotline.digest.models import BroadcastClearance, ContentItem, Digest, DigestRevision, DigestSettings  # noqa: F401
from hotline.audit.models import AdminChange, CaseView  # noqa: F401
from hotline.knowledge.models import Article, ArticleUse, ArticleVersion, CaseEmployer, ClassifierModel, GroupAlert, GroupAlertCase  # noqa: F401,E501
