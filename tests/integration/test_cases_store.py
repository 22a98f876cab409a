# kefu: the team's case store, the same suite against SQLite and a real PostgreSQL 15. SPDX-License-Identifier: MIT
import json
import os
import sqlite3
import subprocess

import pytest

from conftest import BUILD_DIR, SOURCE_DIR, program, run
from postgres_fixtures import postgres, postgres_tls  # noqa: F401 (pytest fixtures)

CONSOLE = program("kefu-console")
RECORD = os.path.join(BUILD_DIR, "tools", "case-record")
SCHEMA_1 = os.path.join(SOURCE_DIR, "tests", "integration", "data", "cases-schema-1.sql")


class SqliteStore:
    name = "sqlite"

    def __init__(self, folder):
        self.uri = str(folder / "cases.sqlite")

    def env(self):
        return dict(os.environ)

    def sql(self, statement):
        db = sqlite3.connect(self.uri)
        try:
            rows = db.execute(statement).fetchall()
            db.commit()
        finally:
            db.close()
        return [[str(value) for value in row] for row in rows]

    def load_schema_1(self):
        db = sqlite3.connect(self.uri)
        db.executescript(open(SCHEMA_1).read())
        db.close()


class PostgresStore:
    name = "postgresql"

    def __init__(self, server):
        self.server = server
        self.uri = server.uri

    def env(self):
        return self.server.env()

    def sql(self, statement):
        return self.server.sql(statement)

    def load_schema_1(self):
        # Schema 1 in PostgreSQL's words (BIGSERIAL for SQLite's INTEGER PRIMARY KEY), with
        # the same two cases as the SQLite fixture.
        script = open(SCHEMA_1).read().replace("id INTEGER PRIMARY KEY", "id BIGSERIAL PRIMARY KEY")
        script = "\n".join(line for line in script.splitlines() if not line.startswith("--"))
        self.server.sql(script)
        self.server.sql("SELECT setval('cases_id_seq', 2)")


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        return SqliteStore(tmp_path)
    return PostgresStore(request.getfixturevalue("postgres"))


def cases(store, *args, **kwargs):
    return run([CONSOLE, "cases", "--db", store.uri] + list(args), env=kwargs.pop("env", store.env()),
               **kwargs)


def record(store, case, env=None):
    result = run([RECORD, store.uri], input=json.dumps(case), env=env or store.env())
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def a_case(session, **fields):
    case = {"session": session, "support_id": "KF-7Q2M-9XJ4", "technician": "Alice Wong",
            "organisation": "Example Support", "computer": "LENOVO ThinkPad T14",
            "started": "2026-11-29 10:00:00", "ended": "2026-11-29 10:25:00", "outcome": "ended",
            "status": "solved", "problems": ["printer queue stopped"],
            "actions": ["restarted the print queue"], "advice": "replace the USB cable",
            "journal": [{"time": "10:05:00", "kind": "repair", "text": "printer-queue: fixed"}]}
    case.update(fields)
    return case


def test_empty_store_migrates_to_the_latest_schema(store):
    result = cases(store, "list")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() in ("No cases.", "No cases yet.")
    record(store, a_case("s-empty"))
    assert store.sql("SELECT version FROM kefu_schema") == [["2"]]
    assert "replace the USB cable" in cases(store).stdout


def test_previous_schema_migrates_and_keeps_its_cases(store):
    store.load_schema_1()
    result = cases(store, "show", "1")
    assert result.returncode == 0, result.stderr
    assert "Carol Diaz" in result.stdout and "Keep the scanner on the powered hub" in result.stdout
    assert store.sql("SELECT version FROM kefu_schema") == [["2"]]
    shown = json.loads(cases(store, "show", "1", "--json").stdout)
    assert shown["technicians"] == ["Carol Diaz"]
    assert shown["status"] == "solved"
    assert shown["journal"][1]["text"] == "scanner-permission: fixed"
    # The old cases are in the search, and a new case takes the next number.
    assert [c["id"] for c in json.loads(cases(store, "search", "scanner", "--json").stdout)] == [1]
    assert record(store, a_case("s-after-migration")) == "3"
    # Opening again runs no migration twice.
    assert cases(store).returncode == 0
    assert store.sql("SELECT count(*) FROM cases") == [["3"]]


def test_a_case_is_noted_tagged_moved_and_found(store):
    first = record(store, a_case("s-1"))
    other = record(store, a_case("s-2", support_id="KF-OTHER-0001", advice="update the BIOS",
                                 problems=["fan noise"], technician="Bob Li"))
    assert (first, other) == ("1", "2")
    assert cases(store, "note", "1", "customer", "called", "back:", "works").returncode == 0
    assert cases(store, "tag", "1", "warranty").returncode == 0
    assert cases(store, "tag", "1", "warranty").returncode == 0
    assert cases(store, "status", "1", "waiting").returncode == 0
    shown = json.loads(cases(store, "show", "1", "--json").stdout)
    assert shown["status"] == "waiting"
    assert shown["tags"] == ["warranty"]
    assert [n["text"] for n in shown["notes"]] == ["customer called back: works"]
    assert shown["support_id"] == "KF-7Q2M-9XJ4"
    assert shown["computer"] == "LENOVO ThinkPad T14"

    def ids(*args):
        result = cases(store, *args, "--json")
        assert result.returncode == 0, result.stderr
        return [c["id"] for c in json.loads(result.stdout)]

    assert ids("search", "usb", "cable") == [1]
    assert ids("search", "called", "back") == [1]      # the note is searched
    assert ids("search", "warranty") == [1]            # the tag
    assert ids("search", "fan", "noise") == [2]        # the problem
    assert ids("search", "bios") == [2]
    assert ids("search", "nothing-like-this") == []
    assert ids("customer", "KF-7Q2M-9XJ4") == [1]
    assert ids("customer", "KF-OTHER-0001") == [2]
    assert ids("list") == [2, 1]

    markdown = cases(store, "export", "1", "--markdown")
    assert markdown.returncode == 0
    assert markdown.stdout.startswith("# Case 1 (waiting)")
    assert "## Advice" in markdown.stdout and "replace the USB cable" in markdown.stdout
    exported = json.loads(cases(store, "export", "1", "--json").stdout)
    assert exported["advice"] == "replace the USB cable"
    assert cases(store, "export", "1").returncode != 0


@pytest.mark.parametrize("args, message", [
    (["show", "99"], "there is no case 99"),
    (["show", "abc"], "a case number is a positive number"),
    (["note", "99", "hello"], "there is no case 99"),
    (["status", "1", "closed"], "open, waiting or solved"),
    (["search", "\"(*"], "search for at least one word"),
])
def test_bad_input_is_one_clear_line(store, args, message):
    record(store, a_case("s-bad"))
    result = cases(store, *args)
    assert result.returncode != 0
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_hostile_text_is_data_never_sql_or_a_query(store):
    record(store, a_case("s-hostile"))
    hostile = "'); DROP TABLE cases; -- NEAR(a b) OR \"x\" * ^"
    assert cases(store, "note", "1", hostile).returncode == 0
    assert cases(store, "tag", "1", hostile).returncode == 0
    result = cases(store, "search", hostile, "--json")
    assert result.returncode == 0, result.stderr
    assert store.sql("SELECT count(*) FROM cases") == [["1"]]
    notes = json.loads(cases(store, "show", "1", "--json").stdout)["notes"]
    assert notes[0]["text"] == hostile
    # A terminal escape in a note reaches the technician's terminal escaped.
    assert cases(store, "note", "1", "\x1b]0;owned\x07").returncode == 0
    assert "\x1b" not in cases(store, "show", "1").stdout


def test_two_consoles_finishing_cases_at_once_lose_none(store):
    script = "for i in $(seq 1 15); do printf '%%s' \"$(printf '{\"session\":\"%s-%%d\"}' $i)\" " \
             "| %s %s >/dev/null || exit 1; done"
    writers = [subprocess.Popen(["sh", "-c", script % (name, RECORD, "'%s'" % store.uri)],
                                env=store.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True) for name in ("alice", "bob")]
    for writer in writers:
        _, err = writer.communicate(timeout=180)
        assert writer.returncode == 0, err
    assert store.sql("SELECT count(*), count(DISTINCT id), count(DISTINCT session) FROM cases") \
        == [["30", "30", "30"]]
    # The same session's case is written once, however often it is sent.
    assert record(store, {"session": "alice-3"}) == store.sql(
        "SELECT id FROM cases WHERE session = 'alice-3'")[0][0]
    assert store.sql("SELECT count(*) FROM cases") == [["30"]]


def test_configured_database_is_used(store, tmp_path):
    config = tmp_path / "console-config"
    config.mkdir()
    (config / "console.conf").write_text("# the team's cases\nother = kept for others\n"
                                         "database = %s\n" % store.uri)
    record(store, a_case("s-conf"))
    env = store.env()
    env["KEFU_CONSOLE_DIR"] = str(config)
    result = run([CONSOLE, "cases", "--json"], env=env)
    assert result.returncode == 0, result.stderr
    assert [c["id"] for c in json.loads(result.stdout)] == [1]


def test_a_lost_database_loses_no_case(postgres, tmp_path):
    store = PostgresStore(postgres)
    assert record(store, a_case("s-before")) == "1"
    postgres.stop()
    # The session ends while the server is away: the case waits in the local spool.
    assert record(store, a_case("s-while-away", advice="reseat the memory")) == "queued"
    spool = os.path.join(os.environ["XDG_STATE_HOME"], "kefu", "console", "spool.sqlite")
    assert sqlite3.connect(spool).execute("SELECT count(*) FROM spool").fetchone() == (1,)
    listing = cases(store)
    assert listing.returncode != 0
    assert "cannot reach the case database" in listing.stderr
    postgres.start()
    result = cases(store, "search", "memory", "--json")
    assert result.returncode == 0, result.stderr
    assert [c["id"] for c in json.loads(result.stdout)] == [2]
    assert sqlite3.connect(spool).execute("SELECT count(*) FROM spool").fetchone() == (0,)
    assert postgres.sql("SELECT count(*) FROM cases") == [["2"]]


def test_password_is_taken_only_from_the_password_file(postgres, tmp_path):
    store = PostgresStore(postgres)
    with_password = postgres.uri.replace("user=kefu", "user=kefu&password=team-secret-for-tests")
    result = run([CONSOLE, "cases", "--db", with_password], env=store.env())
    assert result.returncode != 0
    assert "password file" in result.stderr
    assert "team-secret" not in result.stderr
    env = store.env()
    env["PGPASSFILE"] = str(tmp_path / "no-such-file")
    result = run([CONSOLE, "cases", "--db", postgres.uri], env=env)
    assert result.returncode != 0
    assert "cannot reach the case database" in result.stderr
    assert cases(store).returncode == 0


def test_tls_to_the_database_checks_the_servers_certificate(postgres_tls, tmp_path):
    server = postgres_tls
    env = server.env()
    result = run([CONSOLE, "cases", "--db", server.tls_uri()], env=env)
    assert result.returncode == 0, result.stderr
    check = run([RECORD, server.tls_uri()], input=json.dumps(a_case("s-tls")), env=env)
    assert check.returncode == 0, check.stderr
    assert run([CONSOLE, "cases", "--db", server.tls_uri(), "show", "1"], env=env).returncode == 0
    # A server whose certificate does not chain to the configured CA is refused.
    other_ca = tmp_path / "other-ca.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", str(tmp_path / "other.key"),
                    "-out", str(other_ca), "-days", "2", "-subj", "/CN=someone else"],
                   check=True, timeout=60, capture_output=True)
    refused = run([CONSOLE, "cases", "--db", server.tls_uri(str(other_ca))], env=env)
    assert refused.returncode != 0
    assert "cannot reach the case database" in refused.stderr
    assert "certificate verify failed" in refused.stderr
    # And with the right CA, the server reports the connection as TLS.
    rows = subprocess.run(
        ["psql", "-X", "-A", "-t", "-d", server.tls_uri(), "-c",
         "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"],
        env=env, capture_output=True, text=True, timeout=60)
    assert rows.stdout.strip() == "t", rows.stderr
