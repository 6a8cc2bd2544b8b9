"""A typed Python client of the alliance registry.

openapi-python-client generates the package `alliance_registry_client` from
openapi/openapi.json (scripts/clients does, into a scratch directory: it is
not committed) and this program uses it. Run by scripts/clients against a
fresh server:

    BASE_URL=http://127.0.0.1:8080 API_TOKEN=... python example.py

It creates organizations, pages through a listing, reads a problem
document, and makes a conditional GET (If-None-Match -> 304) and a
conditional PATCH (If-Match; stale -> 412). It is checked with
`mypy --strict`.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from http import HTTPStatus

from alliance_registry_client import AuthenticatedClient
from alliance_registry_client.api.organizations import (
    create_organization,
    get_organization,
    list_organizations,
    update_organization,
)
from alliance_registry_client.models import (
    Organization,
    OrganizationInput,
    OrganizationPatch,
    Problem,
)
from alliance_registry_client.types import UNSET, Unset


class ProblemError(Exception):
    """A problem document (RFC 9457) the API answered with."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(describe(problem))


def describe(problem: Problem) -> str:
    """A problem document as text, e.g. for an error message."""
    fields = [f"{e.field}: {e.message}" for e in problem.errors or []]
    text = f"{problem.status} {problem.title}: {problem.detail}"
    return f"{text} [{'; '.join(fields)}]" if fields else text


def check(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(f"check failed: {message}")


def organizations(
    client: AuthenticatedClient, *, q: str | Unset = UNSET, limit: int = 50
) -> Iterator[Organization]:
    """Every organization of a listing, page after page: follows
    `next_cursor` until it is None. A problem ends it with ProblemError."""
    cursor: str | Unset = UNSET
    while True:
        page = list_organizations.sync(client=client, q=q, limit=limit, cursor=cursor)
        if isinstance(page, Problem):
            raise ProblemError(page)
        if page is None:
            raise RuntimeError("no page: an undocumented status")
        yield from page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def main() -> None:
    base_url = os.environ.get("BASE_URL")
    token = os.environ.get("API_TOKEN")
    if not base_url or not token:
        sys.exit("set BASE_URL and API_TOKEN")
    client = AuthenticatedClient(base_url=base_url, token=token)

    # Create three organizations; a tag of this run in their names lets the
    # listings below find exactly these three (`q` matches names).
    tag = f"py-{int(time.time() * 1000):x}"
    created: list[Organization] = []
    for name in (f"{tag} Alpha Works", f"{tag} Beta Works", f"{tag} Gamma Works"):
        response = create_organization.sync_detailed(
            client=client, body=OrganizationInput(name=name, kind="enterprise")
        )
        organization = response.parsed
        if isinstance(organization, Problem):
            raise ProblemError(organization)
        check(
            response.status_code == HTTPStatus.CREATED and organization is not None, "201 Created"
        )
        assert organization is not None
        created.append(organization)
        print(f"created {organization.name} ({organization.id}), ETag {response.headers['ETag']}")

    # Page through the listing, two at a time, by hand ...
    pages = 0
    seen = 0
    cursor: str | Unset = UNSET
    while True:
        page = list_organizations.sync(client=client, q=tag, limit=2, cursor=cursor)
        if isinstance(page, Problem):
            raise ProblemError(page)
        if page is None:
            raise RuntimeError("no page: an undocumented status")
        pages += 1
        seen += len(page.items)
        print(f"page {pages}: {', '.join(o.name for o in page.items)}")
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    check(pages == 2 and seen == 3, f"2 pages of 3 organizations, got {pages} pages of {seen}")

    # ... and with the generator.
    names = [o.name for o in organizations(client, q=tag, limit=2)]
    print(f"iterated: {', '.join(names)}")
    check(len(names) == 3, "the generator yields all three")

    # A problem document: an invalid create is a 422 parsed as Problem.
    invalid = create_organization.sync_detailed(
        client=client, body=OrganizationInput(name="", kind="enterprise")
    )
    problem = invalid.parsed
    check(isinstance(problem, Problem), "an empty name is refused")
    assert isinstance(problem, Problem)
    check(invalid.status_code == HTTPStatus.UNPROCESSABLE_ENTITY and problem.status == 422, "422")
    check(
        invalid.headers["Content-Type"] == "application/problem+json",
        "served as application/problem+json",
    )
    check(
        isinstance(problem.errors, list) and problem.errors[0].field == "name",
        "errors names the field",
    )
    print(f"problem: {describe(problem)}")

    # Conditional GET: If-None-Match with the ETag we hold -> 304, no body
    # (`parsed` is None), so look at the status first.
    first = created[0]
    fresh = get_organization.sync_detailed(str(first.id), client=client)
    check(isinstance(fresh.parsed, Organization), "200 with the record")
    etag = fresh.headers["ETag"]
    again = get_organization.sync_detailed(str(first.id), client=client, if_none_match=etag)
    check(
        again.status_code == HTTPStatus.NOT_MODIFIED and again.parsed is None,
        f"304, got {again.status_code}",
    )
    print(f"conditional GET with If-None-Match {etag}: {again.status_code.value}")

    # Conditional PATCH: If-Match with the current ETag succeeds and yields
    # a new one; the old ETag is then stale -> 412, a problem document.
    patched = update_organization.sync_detailed(
        str(first.id),
        client=client,
        body=OrganizationPatch(description="Makes bicycles"),
        if_match=etag,
    )
    if isinstance(patched.parsed, Problem):
        raise ProblemError(patched.parsed)
    new_etag = patched.headers["ETag"]
    check(isinstance(patched.parsed, Organization) and new_etag != etag, "a new ETag")
    print(f"PATCH with If-Match {etag}: {patched.status_code.value}, ETag now {new_etag}")
    stale = update_organization.sync_detailed(
        str(first.id),
        client=client,
        body=OrganizationPatch(description="Lost update"),
        if_match=etag,
    )
    check(
        stale.status_code == HTTPStatus.PRECONDITION_FAILED and isinstance(stale.parsed, Problem),
        "412",
    )
    assert isinstance(stale.parsed, Problem)
    print(f"PATCH with stale If-Match {etag}: {describe(stale.parsed)}")

    print("python client: all checks passed")


if __name__ == "__main__":
    main()
