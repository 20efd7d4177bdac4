"""After `attrition erase N`, the person's row is nowhere: not in any file under the data
folder (database and its write-ahead log, caches, spool), not in the MLflow store or its
artifacts, not in a backup taken afterwards (decrypted with its key); and every one of those
files is private (0600, folders 0700).

The set-up runs the real commands, as an operator would, in a folder of its own: ingest the
dev workforce, train, serve and score the person through the API (and offline with
`attrition predict`), record their outcome, monitor, stop the server, erase, back up. A
person is found by the combination of their attributes (Age, Gender, MonthlyIncome,
MaritalStatus, anchored on an income nobody else has) in any serialisation: JSON or CSV
text, SQLite pages, Parquet columns, Fernet-encrypted backup files.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

from attrition.operations.processes import free_port
from attrition.schema import FEATURE_NAMES, IDENTIFIER

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[3]
ATTRITION = [sys.executable, "-m", "attrition"]
TRAITS = ("Age", "Gender", "MonthlyIncome", "MaritalStatus")
WINDOW = 1200  # bytes either side of the income: one JSON row or CSV line and more
SCORED_ROWS = 60


def site_env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATTRITION_")}
    return env | {
        "ATTRITION_VAR_DIR": str(root / "var"),
        "ATTRITION_PSEUDONYM_KEY": "erasure-test-pseudonym-key",
        "ATTRITION_GATE_CONFIG": str(REPO / "configs" / "gate.yaml"),
        "ATTRITION_MONITORING_CONFIG": str(REPO / "configs" / "monitoring.yaml"),
        "ATTRITION_BACKUP_KEY_FILE": str(root / "keys" / "backup.key"),
        "ATTRITION_CV_FOLDS": "3",
        "ATTRITION_CV_REPEATS": "1",
        "ATTRITION_MODEL_POLL_SECONDS": "0",
    }


def attrition(env: dict[str, str], *args: str, timeout: float = 600) -> dict[str, Any]:
    done = subprocess.run(
        [*ATTRITION, *args], env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"attrition {args}: {done.stdout[-2000:]}{done.stderr[-3000:]}"
    lines = done.stdout.strip().splitlines()
    return json.loads(lines[-1]) if "--json" in args else {}


def chosen_people(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Among the rows scored, two whose incomes nobody else in the file has: the person to
    erase, and a control who must still be found. High incomes sit far from the categorical
    sections of the drift reference's marginals, so only a real row can match around one."""
    counts = frame["MonthlyIncome"].value_counts()
    chosen = [
        {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
        for _, row in frame.head(SCORED_ROWS).iterrows()
        if counts[row["MonthlyIncome"]] == 1 and row["MonthlyIncome"] >= 10_000
    ]
    assert len(chosen) >= 2, "too few scored rows with a unique income"
    return chosen[:2]


def example_rows(var: Path) -> set[tuple[Any, ...]]:
    """The rows of every input example the model store and cache hold, with their columns."""
    rows: set[tuple[Any, ...]] = set()
    for path in var.rglob("*input_example.json"):
        example = json.loads(path.read_text())
        example = example.get("dataframe_split", example)
        rows |= {tuple(zip(example["columns"], row, strict=True)) for row in example["data"]}
    return rows


# --- finding a person ------------------------------------------------------------------


def _token(value: object) -> re.Pattern[bytes]:
    text = re.escape(str(value).encode())
    return re.compile(rb"(?<![0-9.])" + text + rb"(?![0-9])")


def in_bytes(data: bytes, person: dict[str, Any]) -> bool:
    """Whether the person's attributes appear together around their income."""
    others = [_token(person[t]) for t in TRAITS if t != "MonthlyIncome"]
    for hit in _token(person["MonthlyIncome"]).finditer(data):
        window = data[max(0, hit.start() - WINDOW) : hit.end() + WINDOW]
        if all(pattern.search(window) for pattern in others):
            return True
    return False


def in_parquet(data: bytes, person: dict[str, Any]) -> bool:
    import io

    frame = pd.read_parquet(io.BytesIO(data))
    if not set(TRAITS) <= set(frame.columns):
        return False
    match = pd.Series(True, index=frame.index)
    for trait in TRAITS:
        match &= frame[trait].astype(str) == str(person[trait])
    return bool(match.any())


def holds_person(data: bytes, person: dict[str, Any], key: bytes | None) -> bool:
    if key is not None and data.startswith(b"gAAAAA"):  # a Fernet token: read it decrypted
        from cryptography.fernet import Fernet

        return holds_person(Fernet(key).decrypt(data), person, None)
    if data.startswith(b"PAR1"):
        return in_parquet(data, person)
    return in_bytes(data, person)


def findings(roots: list[Path], person: dict[str, Any], key: bytes | None) -> list[str]:
    return [
        str(path)
        for root in roots
        for path in sorted(root.rglob("*"))
        if path.is_file() and holds_person(path.read_bytes(), person, key)
    ]


def not_private(roots: list[Path]) -> list[str]:
    wrong = []
    for root in roots:
        for path in (root, *root.rglob("*")):
            mode = path.stat().st_mode & 0o777
            if mode != (0o700 if path.is_dir() else 0o600):
                wrong.append(f"{path} {mode:o}")
    return wrong


# --- the set-up ------------------------------------------------------------------------


def train_champion(env: dict[str, str], dev_csv: Path) -> None:
    attrition(env, "data", "ingest", str(dev_csv), "--json")
    trained = attrition(env, "train", "--trials", "2", "--timeout", "120", "--json")
    if not trained.get("promoted"):
        version = str(trained["model_version"])
        attrition(env, "promote", version, "--json")


def score_through_the_api(env: dict[str, str], root: Path, person: dict[str, Any]) -> None:
    key = attrition(env, "keys", "create", "--name", "t", "--role", "predictor", "--json")["key"]
    port = free_port()
    with (root / "serve.log").open("wb") as log:
        server = subprocess.Popen(
            [*ATTRITION, "serve", "--port", str(port)], env=env, stdout=log, stderr=log
        )
    base, headers = f"http://127.0.0.1:{port}", {"X-API-Key": key}
    try:
        _wait_ready(base, server)
        body = {k: person[k] for k in (IDENTIFIER, *FEATURE_NAMES)}
        answer = httpx.post(f"{base}/v1/predictions", json=body, headers=headers, timeout=30)
        assert answer.status_code == 200, answer.text
        outcome = {"employee_number": person[IDENTIFIER], "left": True}
        outcome["outcome_date"] = "2026-11-02"
        answer = httpx.post(
            f"{base}/v1/outcomes", json={"outcomes": [outcome]}, headers=headers, timeout=30
        )
        assert answer.status_code == 200, answer.text
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(60) in (0, -signal.SIGTERM), (root / "serve.log").read_text()[-3000:]


def _wait_ready(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert server.poll() is None, "the server exited"
        try:
            if httpx.get(f"{base}/health/ready", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError("the server never became ready")


def test_after_erase_the_person_is_in_no_file_no_artifact_and_no_later_backup(
    tmp_path: Path, dev_csv: Path
) -> None:
    root = tmp_path / "site"
    env = site_env(root)
    frame = pd.read_csv(dev_csv)
    person, control = chosen_people(frame)
    var = root / "var"
    attrition(env, "maintenance", "backup-key", "--out", env["ATTRITION_BACKUP_KEY_FILE"])
    train_champion(env, dev_csv)
    score_through_the_api(env, root, person)
    scored = tmp_path / "scored"  # the user's own export lives where they put it
    frame.head(SCORED_ROWS).to_csv(tmp_path / "batch.csv", index=False)
    attrition(env, "predict", str(tmp_path / "batch.csv"), "--out", str(scored / "out.csv"))
    monitor = subprocess.run([*ATTRITION, "monitor"], env=env, capture_output=True, timeout=600)
    assert monitor.returncode == 0, monitor.stderr[-3000:]
    assert findings([var], person, None), "the scan must find the person before the erasure"

    erased = attrition(env, "erase", str(person[IDENTIFIER]), "--json")["rows_deleted"]
    assert erased["employee_snapshot"] == 1 and erased["prediction_log"] >= 2
    backup = root / "backups" / "after-erase"
    manifest = attrition(env, "maintenance", "backup", "--out", str(backup), "--json")
    assert manifest["encryption"]["scheme"] == "fernet"

    key = Path(env["ATTRITION_BACKUP_KEY_FILE"]).read_bytes().strip()
    assert not_private([var, root / "backups", root / "keys"]) == []
    kept = findings([backup], control, key)
    assert any("employee_snapshot" in path for path in kept), "the scan reads encrypted files"
    examples = example_rows(var)
    assert examples, "the logged model has an input example"
    people = {tuple(zip(frame.columns, row, strict=True)) for row in frame.itertuples(index=False)}
    assert not any(set(example) <= set(row) for example in examples for row in people)
    assert findings([var, backup], person, key) == []
