"""Schemathesis hooks for scripts/fuzz.sh (loaded through SCHEMATHESIS_HOOKS).

Two things the OpenAPI document cannot tell the fuzzer, and what the local stand-in for API Gateway
(cargo lambda watch) gets wrong where AWS does not. Each is narrow, and every failure they drop is
counted in the run's summary ("dropped by filter_failure").
"""

import json
import os

import schemathesis
from schemathesis.openapi.checks import RejectedPositiveData

# The customer whose token the fuzzer sends (scripts/fuzz.sh registers it and exports its id).
CUSTOMER_ID = os.environ["KITCHEN_FUZZ_CUSTOMER_ID"]
# A well-formed user id that no user has: the API answers 404 for it.
NO_SUCH_USER = "00000000000000000000000000"


@schemathesis.hook
def before_call(context, case, **kwargs):
    """Keeps the fuzzer's own customer signed in.

    Schemathesis reuses the ids it reads in responses, so it soon sends the admin's
    `PATCH /admin/users/{id}` with `{"active": false}` to the customer whose token every other
    operation uses; deactivation revokes that token and the rest of the run would test nothing but
    401s. Those requests go to an unknown user instead (a 404, which the checks accept).
    """
    if (
        case.operation.path == "/admin/users/{id}"
        and case.method.upper() == "PATCH"
        and (case.path_parameters or {}).get("id") == CUSTOMER_ID
    ):
        case.path_parameters["id"] = NO_SUCH_USER


def _problem(response):
    try:
        return json.loads(response.content)
    except ValueError:
        return None


@schemathesis.hook
def filter_failure(context, failure, case, response):
    # A cursor is a token the API signs (API.md: a tampered or foreign cursor answers 400); the
    # document can only say it is a string, so a made-up one is "valid" to the fuzzer. Only a 400
    # that blames the cursor alone is forgiven.
    if isinstance(failure, RejectedPositiveData) and response.status_code == 400:
        problem = _problem(response)
        if isinstance(problem, dict) and [e.get("field") for e in problem.get("errors", [])] == ["cursor"]:
            return False
    # `cargo lambda watch` (the local stand-in for API Gateway) cannot put some requests into a
    # Lambda event: a JSON body that is not UTF-8, or a header value with a byte outside ASCII. It
    # answers them with a 500 of its own (text/plain, type https://httpstatuses.com/500) without
    # calling any function. API Gateway hands such bytes on, and the functions answer them with 400
    # (auth's `a_body_that_is_not_a_json_object_is_a_400`, orders' idempotency-key test). Only that
    # exact 500, for such a request, is dropped; a 500 of ours is a problem document and never is.
    #
    # It also loses about one in a hundred of the large responses of the two routes that serve
    # files (GET /docs, 28 KB, and GET /openapi.json, 250 KB): the function logs its 200 and its
    # runtime API accepts the response, then the client gets that same 500 (its debug log says so).
    # The same event sent 300 times through its Invoke API came back 200 every time, and those
    # handlers read nothing from the request, so only for them is it forgiven too.
    if (
        response.status_code == 500
        and response.headers.get("content-type", [""])[0].startswith("text/plain")
        and b"https://httpstatuses.com/500" in response.content
        and (_not_representable(response.request) or _serves_a_file(case))
    ):
        return False
    return True


def _serves_a_file(case):
    return case.method.upper() == "GET" and case.operation.path in ("/docs", "/openapi.json")


def _not_representable(request):
    for value in request.headers.values():
        raw = value.encode("latin-1", "replace") if isinstance(value, str) else value
        if any(byte > 0x7F for byte in raw):
            return True
    body = request.body
    if body is None or isinstance(body, str):
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False
