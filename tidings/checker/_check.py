"""One full check run: catalog orphans, code orphans, compatibility with a baseline, ignores."""

from __future__ import annotations

from pathlib import Path

from tidings._errors import UserError
from tidings.catalog import Catalog, catalog_files, load_catalog
from tidings.checker import _rules as R
from tidings.checker._baseline import (
    Baseline,
    load_git_baseline,
    load_git_history,
    load_path_baseline,
)
from tidings.checker._code import Use, code_orphans, scan_code
from tidings.checker._compat import compare_catalogs, is_transitive
from tidings.checker._distributed import distribution_findings, wire_sync_findings
from tidings.checker._findings import Finding, Severity
from tidings.checker._ignore import apply_ignores, load_ignore_file
from tidings.checker._orphans import catalog_orphans
from tidings.checker._report import CheckResult
from tidings.checker._settings import CheckSettings


def keyword_findings(catalog: Catalog) -> list[Finding]:
    """The catalog's warnings (unknown schema keywords and formats) as `TID-K001` findings."""
    return [Finding(R.UNKNOWN_KEYWORD, Severity.WARNING, issue.message, pointer=issue.pointer,
                    file=issue.location.file, line=issue.location.line,
                    column=issue.location.column)
            for issue in catalog.warnings]


def run_check(settings: CheckSettings, *, cwd: Path | None = None) -> CheckResult:
    """Run every check `settings` asks for and return the result (ignores applied).

    Raises `UserError` (exit code 2) for a broken catalog, a bad ref or path, or a bad ignore file.
    """
    cwd = cwd or Path.cwd()
    catalog_dir = settings.schemas if settings.schemas.is_absolute() else cwd / settings.schemas
    shown_dir = _shown(catalog_dir, cwd)
    relative_ok = cwd.resolve() == Path.cwd().resolve() and not shown_dir.startswith(("/", ".."))
    catalog = load_catalog(shown_dir if relative_ok else catalog_dir,
                           strict_keywords=settings.strict_keywords)
    findings: list[Finding] = [*keyword_findings(catalog), *catalog_orphans(catalog),
                               *distribution_findings(catalog)]
    code_roots: list[str] = []
    uses: list[Use] = []
    if settings.code:
        roots = []
        for root in settings.code:
            path = root if root.is_absolute() else cwd / root
            if not path.exists():
                raise UserError(f"--code {root}: no such file or directory; point it at your "
                                "source directory")
            roots.append(path)
            code_roots.append(root.as_posix())
        uses, problems = scan_code(roots, catalog, base=cwd)
        findings += problems + code_orphans(uses, catalog) + wire_sync_findings(uses, catalog)
    upcasters = {(u.name, u.from_version): f"{u.file}:{u.line}" for u in uses
                 if u.kind == "upcast" and u.from_version is not None}
    baseline_label: str | None = None
    if settings.against:
        target = Path(settings.against)
        target = target if target.is_absolute() else cwd / target
        history: list[Baseline] = []
        note: str | None = None
        if target.exists():
            baseline = load_path_baseline(target)
            note = "the baseline is a directory, which has no git history"
        else:
            baseline = load_git_baseline(catalog_dir, settings.against,
                                         current=_catalog_texts(catalog_dir))
            transitive = {m.name for m in catalog.messages() if is_transitive(m.compatibility)}
            if transitive:
                # Versions that do not load (a broken commit) are skipped.
                history, _skipped = load_git_history(catalog_dir, settings.against,
                                                     only=transitive)
        baseline_label = baseline.label
        findings += compare_catalogs(catalog, baseline, policy=settings.policy,
                                     history=history, history_note=note, upcasters=upcasters)
    ignore_path = settings.ignore_file if settings.ignore_file.is_absolute() else (
        cwd / settings.ignore_file)
    entries = load_ignore_file(ignore_path)
    kept, ignored = apply_ignores(findings, entries, _shown(ignore_path, cwd))
    return CheckResult(
        findings=kept, ignored=ignored, catalog=shown_dir, baseline=baseline_label,
        code=code_roots, fail_on=settings.fail_on)


def _catalog_texts(catalog_dir: Path) -> dict[str, str] | None:
    """The current catalog's files (as `load_catalog` finds them), to prune the baseline."""
    if not catalog_dir.is_dir():
        return None
    texts: dict[str, str] = {}
    for path in catalog_files(catalog_dir):
        try:
            texts[path.relative_to(catalog_dir).as_posix()] = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
    return texts


def _shown(path: Path, cwd: Path) -> str:
    try:
        return path.resolve().relative_to(cwd.resolve()).as_posix()
    except ValueError:
        return path.as_posix()
