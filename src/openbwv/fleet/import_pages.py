"""Bulk import on a page: choose a CSV file, read the dry run's report row by row, then import.

The file's text travels from the check to the import in a hidden field of the report, so the user
does not choose the file again. Both posts read their body only once the caller is known to hold the
permission: they declare no ``Form`` parameter (FastAPI parses those, ``check_csrf``'s token among
them, before ``Require`` runs), and read the form, token included, in ``posted_file``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Protocol
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, RedirectResponse, Response

from openbwv.csrf import CSRF_FIELD, check_csrf_token
from openbwv.db import Db
from openbwv.errors import InvalidInput, OpenbwvError, TooLarge
from openbwv.fleet import imports
from openbwv.fleet.imports import CsvRejected, ImportReport
from openbwv.policy import Actor, Permission, Require
from openbwv.web.forms import RedrawForm, redrawing_on_refusal, said
from openbwv.web.render import render

router = APIRouter(include_in_schema=False)

ImportWriter = Annotated[Actor, Require(Permission.FLEET_IMPORT_WRITE)]
# The report lists at most this many bad rows; a file of thousands of bad rows is fixed from the top.
LISTED = 1000


class Importer(Protocol):
    def __call__(
        self, db: Session, actor: Actor, *, text: str, dry_run: bool = False, skip_bad: bool = False
    ) -> ImportReport: ...


@dataclass(frozen=True)
class ImportKind:
    """What a file can hold: its name on the page, its columns in words, the service that imports it
    and the list where the imported rows appear."""

    label: str
    one: str
    many: str
    header: str
    columns: str
    run: Importer
    list_href: str
    list_label: str
    list_permission: Permission


KINDS = {
    "officers": ImportKind(
        label="Officers, from the HR export",
        one="officer",
        many="officers",
        header="collar_number,name,rank,unit",
        columns=(
            "One officer a row: the collar number (letters and digits), the full name, the rank (such "
            "as constable or sergeant) and the code of the unit the officer serves in (such as RESP)."
        ),
        run=imports.import_officers,
        list_href="/officers",
        list_label="See the officers",
        list_permission=Permission.PEOPLE_OFFICER_READ,
    ),
    "devices": ImportKind(
        label="Devices, from a supplier's delivery note",
        one="device",
        many="devices",
        header="kind,serial,model,firmware,station,pooled",
        columns=(
            "One device a row: the kind (camera, taser or dock), the serial number and the model (for "
            "a Taser, a model the force knows, such as X2); then, if known, the firmware version, the "
            "station it is kept at, and yes under pooled for a camera shared at that station. The "
            "last three columns may be left out."
        ),
        run=imports.import_devices,
        list_href="/fleet/devices",
        list_label="See the fleet",
        list_permission=Permission.FLEET_DEVICE_READ,
    ),
}


@dataclass(frozen=True)
class PostedFile:
    """A posted import: what the file holds, its text, and whether its bad rows are to be skipped."""

    what: str
    kind: ImportKind
    text: str
    skip_bad: bool


@dataclass(frozen=True)
class Done:
    """What the last import wrote, shown on the upload page it redirects to."""

    imported: int
    skipped: int


def _upload_page(
    request: Request,
    actor: Actor,
    *,
    what: str = "",
    refusal: OpenbwvError | None = None,
    done: Done | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "title": "Import from a file",
        "kinds": KINDS,
        "what": what,
        "error": said(refusal) if refusal is not None else None,
        "focus": getattr(refusal, "field", "file") if refusal is not None else None,
        "done": done,
        "limit_mib": imports.MAX_CSV_BYTES // (1024 * 1024),
    }
    return render(request, "fleet/imports.html", context, actor=actor, status_code=status_code)


def _report_page(
    request: Request,
    actor: Actor,
    posted: PostedFile,
    report: ImportReport,
    *,
    rejected: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "title": f"Check of the {posted.kind.many} file",
        "kind": posted.kind,
        "what": posted.what,
        "text": posted.text,
        "report": report,
        "listed": report.errors[:LISTED],
        "rejected": rejected,
    }
    return render(request, "fleet/import_report.html", context, actor=actor, status_code=status_code)


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _too_large() -> TooLarge:
    limit = imports.MAX_CSV_BYTES // (1024 * 1024)
    return TooLarge(f"The file is larger than {limit} MiB; split it into smaller files and import each.")


def _decoded(raw: bytes) -> str:
    """An uploaded file's text, or why it cannot be imported."""
    if len(raw) > imports.MAX_CSV_BYTES:
        raise _too_large()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            "file",
            'the file is not UTF-8 text; save it from the spreadsheet as "CSV UTF-8" and choose it again',
        ) from exc


def _checked(text: str) -> str:
    if not text.strip():
        raise InvalidInput(
            "file", "the file is empty; choose the CSV file with a header row and the rows to import"
        )
    if "\x00" in text:
        raise InvalidInput(
            "file",
            'the file holds NUL characters, so it is not CSV text; save it as "CSV UTF-8" and choose it again',
        )
    return text


async def _read_form(request: Request) -> FormData:
    """The posted form, each text field (the file's text on the way to the import) bounded by the
    import's limit rather than Starlette's 1 MB."""
    try:
        return await request.form(max_files=1, max_fields=10, max_part_size=imports.MAX_CSV_BYTES)
    except HTTPException as exc:
        # Starlette answers a field over max_part_size, as any form it cannot parse, with a 400 whose
        # message says which; the body guard's 413 for a body over the app's limit comes through too.
        if exc.status_code == 413 or "exceeded maximum size" in str(exc.detail):
            raise _too_large() from exc
        if exc.status_code == 400:
            raise InvalidInput(
                "file", "the form could not be read; choose the file and send it again"
            ) from exc
        raise


async def posted_file(request: Request, actor: ImportWriter) -> PostedFile:
    """The posted import, read only once the caller holds the permission, its form token checked. A
    form that cannot be imported redraws the upload page with the reason, and nothing is stored."""
    what = ""
    try:
        form = await _read_form(request)
        try:
            check_csrf_token(request, _field(form, CSRF_FIELD))
            what = _field(form, "what")
            kind = KINDS.get(what)
            if kind is None:
                what = ""
                raise InvalidInput("what", "choose what the file holds: officers or devices")
            upload = form.get("file")
            if isinstance(upload, UploadFile):
                text = _decoded(await upload.read(imports.MAX_CSV_BYTES + 1))
            elif "text" in form:
                text = _field(form, "text")
            else:
                raise InvalidInput("file", "choose the CSV file to check")
            return PostedFile(
                what=what, kind=kind, text=_checked(text), skip_bad=_field(form, "skip_bad") == "yes"
            )
        finally:
            await form.close()
    except (InvalidInput, TooLarge) as refusal:
        page = _upload_page(request, actor, what=what, refusal=refusal, status_code=refusal.status_code)
        raise RedrawForm(page) from refusal


Posted = Annotated[PostedFile, Depends(posted_file)]


@router.get("/fleet/imports", response_class=HTMLResponse)
def imports_page(
    request: Request,
    actor: ImportWriter,
    what: Annotated[str, Query(max_length=10)] = "",
    imported: Annotated[int | None, Query(ge=0)] = None,
    skipped: Annotated[int, Query(ge=0)] = 0,
) -> HTMLResponse:
    """Import officers or devices from a CSV file: choose the file and check it before importing."""
    done = Done(imported=imported, skipped=skipped) if imported is not None and what in KINDS else None
    return _upload_page(request, actor, what=what if what in KINDS else "", done=done)


# The form is read by ``Posted`` before ``Db`` opens the session: no connection is held while it arrives.
@router.post("/fleet/imports/check", response_class=HTMLResponse)
def check_import(request: Request, actor: ImportWriter, posted: Posted, db: Db) -> HTMLResponse:
    """Check a file without importing anything: how many rows would import, and each bad row's
    line and problem."""
    report = posted.kind.run(db, actor, text=posted.text, dry_run=True)
    return _report_page(request, actor, posted, report)


@router.post("/fleet/imports/commit")
def commit_import(request: Request, actor: ImportWriter, posted: Posted, db: Db) -> Response:
    """Import the checked file, skipping its bad rows if the user chose to. If rows have gone bad
    since the check and skipping was not chosen, the report is shown again and nothing is imported."""

    def redraw(refusal: OpenbwvError) -> Response:
        if isinstance(refusal, CsvRejected):
            return _report_page(
                request, actor, posted, refusal.report, rejected=True, status_code=refusal.status_code
            )
        return _upload_page(
            request, actor, what=posted.what, refusal=refusal, status_code=refusal.status_code
        )

    with redrawing_on_refusal(db, redraw, also=(CsvRejected,)):
        report = posted.kind.run(db, actor, text=posted.text, skip_bad=posted.skip_bad)
    query = urlencode({"what": posted.what, "imported": report.imported, "skipped": report.skipped})
    return RedirectResponse(f"/fleet/imports?{query}", status_code=303)
