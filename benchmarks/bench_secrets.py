"""Which command-line secrets reach the evidence: each shape below is passed as the command of a real bundle,
and every file of the bundle (evidence.json, report.html, the CSVs, the exports, the manifest) is searched
for the secret's bytes.

Prints one Markdown row per shape: the arguments as given, as evidence.json records them, and whether the
secret reached any file. ``--before FILE`` also masks with another ``redact.py`` (e.g. the one on main:
``git show main:fairprobe/redact.py > /tmp/redact_main.py``) and adds its column. The tests
(tests/test_secrets.py) run the same shapes.

Usage: python benchmarks/bench_secrets.py [--before OLD_REDACT_PY]
"""

from __future__ import annotations

import importlib.util
import json
import platform
import sys
import tempfile
from pathlib import Path

# (shape, argv, the secret that must not appear anywhere)
SHAPES: list[tuple[str, list[str], str]] = [
    ("option=value, named key", ["--api-key=sk-proj-abcdefghijklmnop"], "sk-proj-abcdefghijklmnop"),
    ("option value, named token", ["--token", "t0ps3cretZ"], "t0ps3cretZ"),
    ("option value, named password", ["--db-password", "hunter2Z"], "hunter2Z"),
    ("option=value, named auth", ["--auth=opensesameZ"], "opensesameZ"),
    ("-o setting, named secret", ["-o", "service_secret=swordfishZ"], "swordfishZ"),
    ("Authorization header, Bearer", ["--header=Authorization: Bearer abcdefgh12345678"], "abcdefgh12345678"),
    ("a key's shape alone (sk-...)", ["--model-id", "sk-ant-0123456789abcdefXYZ"], "sk-ant-0123456789abcdefXYZ"),
    ("Hugging Face token after --hf-token", ["--hf-token", "hf_abcdefghijklmnopqrstuvwx"], "hf_abcdefghijklmnop"),
    ("URL user:password@", ["--url=https://me:hunter3Z@example.org/v1"], "hunter3Z"),
    ("option value, named *pass", ["--db-pass", "letmein1Z"], "letmein1Z"),
    ("option value, named pwd", ["--pwd", "letmein2Z"], "letmein2Z"),
    ("option value, named passphrase", ["--passphrase", "correct horse battery"], "correct horse battery"),
    ("option value, named cred", ["--client-cred", "letmein3Z"], "letmein3Z"),
    ("-o setting, named *_pass", ["-o", "db_pass=letmein4Z"], "letmein4Z"),
    ("URL query ?access_token=", ["--endpoint=https://h.example/score?access_token=letmein5Z&model=a"], "letmein5Z"),
    ("X-API-Key header value", ["-H", "X-API-Key: letmein6Z"], "letmein6Z"),
    # more than the audit's 16
    ("-o attached (-odb_pass=)", ["-odb_pass=letmein7Z"], "letmein7Z"),
    ("option=value, upper case", ["--CLIENT_SECRET=letmein8Z"], "letmein8Z"),
    ("a bare NAME=VALUE argument", ["MY_API_KEY=letmein9Z"], "letmein9Z"),
    ("URL bare token@", ["--repo=https://ghtoken10Z@git.example/org/repo"], "ghtoken10Z"),
    ("URL query ?sig=&key=", ["--url", "https://h.example/x?sig=abc&key=letmein11Z"], "letmein11Z"),
    ("connection string", ["--dsn", "postgresql://app:letmein12Z@db.example:5432/x"], "letmein12Z"),
    ("key=value pairs in a value", ["--conn", "host=db user=app password=letmein13Z"], "letmein13Z"),
    ("JSON in a value", ["--config", '{"api_key": "letmein14Z", "model": "a"}'], "letmein14Z"),
    ("any header value after -H", ["-H", "X-Custom-Session: letmein15Z"], "letmein15Z"),
    ("Cookie as an argument", ["Cookie: sid=letmein16Z"], "letmein16Z"),
    ("Basic credentials", ["--header", "Authorization: Basic bGV0bWVpbjE3Wg=="], "bGV0bWVpbjE3Wg=="),
    ("JWT alone", ["--id", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJlMTg"], "c2lnbmF0dXJlMTg"),
    ("AWS access key id alone", ["--aws", "AKIAABCDEFGHIJKLMNOP"], "AKIAABCDEFGHIJKLMNOP"),
    ("GitHub token alone", ["--gh", "ghp_abcdefghijklmnopqrstuvwxyz0123456789"], "ghp_abcdefghijklmnop"),
    ("long hex alone", ["--digest-of", "0123456789abcdef0123456789abcdef"], "0123456789abcdef0123456789abcdef"),
]


def _load(path: str):
    spec = importlib.util.spec_from_file_location("redact_before", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def leaks(argv: list[str], secret: str, folder: Path) -> tuple[list[str], list[str]]:
    """The command as evidence.json records it, and the files of a real bundle that hold the secret."""
    import fairprobe as fp

    evidence = fp.Evidence(command=["pytest", "probes", *argv])
    evidence.add(_RESULT)
    bundle = evidence.write(folder)
    recorded = json.loads((bundle / "evidence.json").read_text())["command"][2:]
    return recorded, [p.name for p in sorted(bundle.iterdir()) if secret.encode() in p.read_bytes()]


def _result():
    import fairprobe as fp

    world = fp.worlds.hiring(n=300, seed=1)
    probe = fp.Probe(data=world.data, model=lambda df: (df["sex"] == "male").to_numpy(), protected="sex",
                     label="hired", features=["sex", "skills_score"])
    return probe.invariance("sex", max_flip_rate=0.05)


_RESULT = None


def main(argv: list[str]) -> int:
    global _RESULT
    before = _load(argv[argv.index("--before") + 1]) if "--before" in argv else None
    _RESULT = _result()
    print(f"# {len(SHAPES)} command-line secret shapes through fp.Evidence(command=...).write(); every file of the "
          f"bundle searched; {platform.machine()}, Python {platform.python_version()}")
    head = "| shape | given | recorded | reaches a file |" + (" before |" if before else "")
    print(head)
    print("| --- | --- | --- | --- |" + (" --- |" if before else ""))
    leaked = 0
    with tempfile.TemporaryDirectory() as tmp:
        for i, (shape, args, secret) in enumerate(SHAPES):
            recorded, files = leaks(args, secret, Path(tmp) / str(i))
            leaked += bool(files)
            row = (f"| {shape} | `{' '.join(args)}` | `{' '.join(recorded)}` | "
                   f"{'**yes**: ' + ', '.join(files) if files else 'no'} |")
            if before:
                old = " ".join(before.mask_command(args))
                row += f" {'**leaked**' if secret in old else 'masked'} |"
            print(row.replace("|`", "| `"))
    print(f"# {leaked} of {len(SHAPES)} shapes reach a file")
    return 1 if leaked else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
