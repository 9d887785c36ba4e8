# TEMPORARY (being written by the OAuth work)
from flask import Blueprint
bp = Blueprint("oauth", __name__)
