"""Schemathesis hooks for scripts/fuzz.sh (loaded through SCHEMATHESIS_HOOKS).

Two things the OpenAPI document cannot tell the fuzzer, and what the local stand-in for API Gateway
(cargo lambda watch) gets wrong where AWS does not. Each is narrow, and every failure they drop is
counted in the run's summary ("dropped by filter_failure").
"""

import json
import os
import re

import schemathesis
from schemathesis.openapi.checks import RejectedPositiveData, UseAfterFree

# The customer whose token the fuzzer sends (scripts/fuzz.sh registers it and exports its id).
CUSTOMER_ID = os.environ["KITCHEN_FUZZ_CUSTOMER_ID"]
# A well-formed user id that no user has: the API answers 404 for it.
NO_SUCH_USER = "00000000000000000000000000"
# The longest sales report, in days counted inclusively (the OpenAPI document of GET /admin/reports/sales).
MAX_REPORT_DAYS = 92


@schemathesis.hook
def before_call(context, case, **kwargs):
    """Keeps the fuzzer's own customer signed in.

    Schemathesis reuses the ids it reads in responses, so it soon sends the admin's
    `PATCH /admin/users/{id}` with `{"active": false}` or a new `role` to the customer whose token
    every other operation uses; either revokes that token and the rest of the run would test nothing
    but 401s. Those requests go to an unknown user instead (a 404, which the checks accept).
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


def _day_number(raw):
    """Days since 0000-03-01 of a `YYYY-MM-DD` date (proleptic Gregorian, year 0 included, as the
    API's parser reads it, surrounding blanks ignored), or None if it is not one."""
    match = re.fullmatch(r"\s*(\d{4})-(\d{2})-(\d{2})\s*", str(raw))
    if not match:
        return None
    year, month, day = (int(part) for part in match.groups())
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    month_days = [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    if not (1 <= month <= 12 and 1 <= day <= month_days[month - 1]):
        return None
    # Counted from March, so that a leap day is the last of its year.
    if month <= 2:
        year -= 1
    shifted = (month + 9) % 12
    return year * 365 + year // 4 - year // 100 + year // 400 + (153 * shifted + 2) // 5 + day - 1


def _report_range_refused(case):
    """Whether a sales report's `from`/`to` break the rule the document states in words only.

    Two dates can each be a valid `format: date` and still make a range that runs backwards or covers
    more than MAX_REPORT_DAYS days, which the API refuses with 400 on `to`; a schema cannot relate two
    parameters, so the fuzzer thinks such a pair valid. Dates this hook cannot read are not forgiven.
    """
    query = case.query or {}
    start, end = _day_number(query.get("from")), _day_number(query.get("to"))
    if start is None or end is None:
        return False
    return end < start or end - start + 1 > MAX_REPORT_DAYS


@schemathesis.hook
def filter_failure(context, failure, case, response):
    # A cursor is a token the API signs (the OpenAPI document: a tampered or foreign cursor answers 400); the
    # document can only say it is a string, so a made-up one is "valid" to the fuzzer. Only a 400
    # that blames the cursor alone is forgiven.
    # The same holds for the one-time token of an email link (the OpenAPI document: a wrong, used or
    # expired token answers 400): only one the API emailed works, so a 400 that blames the token
    # alone is forgiven, and so is the 400 page the link routes answer for it (they answer HTML, and
    # a bad token is the only thing they can refuse).
    if isinstance(failure, RejectedPositiveData) and response.status_code == 400:
        problem = _problem(response)
        if isinstance(problem, dict) and [e.get("field") for e in problem.get("errors", [])] in (
            ["cursor"],
            ["token"],
        ):
            return False
        link_page = case.method.upper() == "GET" and case.operation.path in (
            "/auth/email/verify",
            "/auth/password/reset",
        )
        if link_page and response.headers.get("content-type", [""])[0].startswith("text/html"):
            return False
        # A sales report's range, backwards or longer than the API reports on: a 400 that blames `to`
        # alone, for a pair of dates that do break that rule.
        if (
            case.method.upper() == "GET"
            and case.operation.path == "/admin/reports/sales"
            and isinstance(problem, dict)
            and [e.get("field") for e in problem.get("errors", [])] == ["to"]
            and _report_range_refused(case)
        ):
            return False
    # Two DELETEs keep their resource, as the OpenAPI document says: DELETE /admin/dishes/{id} deactivates the
    # dish (the back office still reads and changes it), DELETE /orders/{id} cancels the order
    # (nothing is ever hard-deleted). A cart line's DELETE does delete, and stays checked.
    if isinstance(failure, UseAfterFree) and failure.free.startswith(
        ("DELETE /admin/dishes/", "DELETE /orders/")
    ):
        return False
    # `cargo lambda watch`, the local stand-in for API Gateway, sometimes answers with a 500 of its
    # own (text/plain, type https://httpstatuses.com/500) that no function sent:
    # - for a request it cannot put into a Lambda event (a JSON body that is not UTF-8, a header
    #   value with a byte outside ASCII), without calling any function; API Gateway hands such bytes
    #   on, and the functions answer them with 400 (auth's `a_body_that_is_not_a_json_object_is_a_400`,
    #   orders' idempotency-key test);
    # - now and then (a few in 10,000) after the function has logged its answer and the runtime API
    #   has accepted it (its debug log shows the race); the same events through its Invoke API never
    #   fail.
    # The functions never send that body (their errors are problem documents of type
    # urn:kitchen:problem:*, and a 500 of theirs is never dropped), and scripts/fuzz.sh fails the run
    # if the stack's log shows any function answering a 5xx or panicking, so nothing of ours hides
    # behind this.
    if (
        response.status_code == 500
        and response.headers.get("content-type", [""])[0].startswith("text/plain")
        and response.content.startswith(b'{"type":"https://httpstatuses.com/500"')
    ):
        return False
    return True
