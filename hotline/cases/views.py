from flask import Blueprint

bp = Blueprint("cases", __name__)
