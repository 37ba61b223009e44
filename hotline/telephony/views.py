from flask import Blueprint

bp = Blueprint("telephony", __name__)
