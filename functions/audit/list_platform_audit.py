"""GET /platform/audit: every venue's audit trail and the platform's own, for the platform's
operations staff (platform admins with a second factor); each read is itself a critical
audit event."""

from audit import queries
from audit.models import AuditPage, PlatformAuditQuery
from tenancy import NoBody, Problem, UserRequest, user_route
from tenancy.audit import record
from tenancy.gate import SECOND_FACTORS, mfa_required


@user_route(
    "GET",
    "/platform/audit",
    summary="Every audit trail, newest first (platform admins only; the read is audited)",
    query=PlatformAuditQuery,
    response=AuditPage,
)
def handler(request: UserRequest[PlatformAuditQuery, NoBody]) -> AuditPage:
    refusal: Problem | None = None
    if not request.is_platform_admin:
        refusal = Problem(
            403,
            "platform-admin-only",
            "only the platform's operations staff may read every venue's audit trail",
            keep_writes=True,
        )
    elif not request.identity.amr & SECOND_FACTORS:
        refusal = mfa_required("the platform's audit trail is read only from a sign-in with MFA")
        refusal.keep_writes = True
    if refusal is not None:
        # Like every refused call of the platform area: a critical event, then the refusal.
        record(
            request.db,
            action="platform.access_refused",
            venue_id=None,
            actor_user_id=request.user_id,
            target_type="platform",
            target_id="GET /platform/audit",
            details={"route": "GET /platform/audit", "correlation_id": request.correlation_id},
            critical=True,
        )
        raise refusal
    query = request.query
    record(
        request.db,
        action="platform_admin.audit_read",
        venue_id=None,
        actor_user_id=request.user_id,
        target_type="audit_log",
        target_id=None if query.venue is None else str(query.venue),
        details={
            "filters": query.model_dump(mode="json", exclude={"cursor"}, exclude_none=True),
            "next_page": query.cursor is not None,
        },
        critical=True,
    )
    return queries.platform_page(request.db, query)
