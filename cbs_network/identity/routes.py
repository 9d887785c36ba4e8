from ..http.api import Blueprint
blp = Blueprint("users", __name__, url_prefix="/api/v1/users", description="Users and memberships.")
