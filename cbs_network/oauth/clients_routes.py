from ..http.api import Blueprint
blp = Blueprint("clients", __name__, url_prefix="/api/v1/clients", description="OAuth clients.")
