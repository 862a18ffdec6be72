"""End-to-end tests of the CLI contract through the real entry point (exit codes, stderr)."""

from __future__ import annotations

import csv
import json
import stat
from pathlib import Path

import pytest

from helpers import run_cli

HEADER = "record_id,given_name,family_name,date_of_birth,sex,nationality\n"
AGENCY_CSV = {
    "ngo_north": HEADER
    + "N1,Mohammed,Al-Hassan,1990-05-03,M,SYR\n"
    + "N2,Olena,Kovalenko,1998-11-20,F,UKR\n"
    + "N3,Olena,Kovalenko,1998-11-20,F,UKR\n"  # a duplicate within the agency
    + "N4,Somchai,Srisuk,1985,M,THA\n",
    "police_unit": HEADER
    + "P-01,محمد,الحسن,1990-03-05,M,SYR\n"
    + "P-02,Tesfaye,Mulugeta,2001-07-14,M,ETH\n"
    + "P-03,Wei,Wang,1979-02-28,M,CHN\n",
    "hotline": HEADER
    + "7,Олена,Коваленко,1998-11,F,\n"
    + "8,Maria José,García López,1993-09-09,F,COL\n"
    + "9,Tesfaye,Mulugeta,2001-07-14,M,ETH\n",
}


@pytest.fixture
def workspace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    for agency, text in AGENCY_CSV.items():
        (tmp_path / f"{agency}.csv").write_text(text, encoding="utf-8")
    code, _, _ = run_cli(["keygen", "--out", str(tmp_path / "secret.key")], capsys)
    assert code == 0
    return tmp_path


def encode(ws: Path, agency: str, capsys: pytest.CaptureFixture[str], secret: str = "secret.key"):
    return run_cli(
        [
            "encode", str(ws / f"{agency}.csv"), "--secret-file", str(ws / secret),
            "--agency", agency, "--out", str(ws / f"{agency}.blk"),
        ],
        capsys,
    )  # fmt: skip


def test_keygen_writes_private_256_bit_secret(tmp_path: Path, capsys) -> None:
    target = tmp_path / "s.key"
    code, out, _ = run_cli(["keygen", "--out", str(target)], capsys)
    assert code == 0
    text = target.read_text()
    assert len(text.strip()) == 64 and int(text, 16) >= 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert text.strip() not in out
    code, _, err = run_cli(["keygen", "--out", str(target)], capsys)
    assert code != 0 and "already exists" in err
    assert target.read_text() == text


def test_encode_link_round_trip(workspace: Path, capsys) -> None:
    for agency in AGENCY_CSV:
        code, out, err = encode(workspace, agency, capsys)
        assert code == 0, err
        assert f"of agency {agency}" in out
    results = workspace / "results"
    blks = [str(workspace / f"{a}.blk") for a in AGENCY_CSV]
    code, out, err = run_cli(["link", *blks, "--out", str(results)], capsys)
    assert code == 0, err
    with (results / "clusters.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["entity_id", "agency", "record_id"]
    records = {(r["agency"], r["record_id"]) for r in rows}
    assert len(rows) == len(records) == 10
    entity = {(r["agency"], r["record_id"]): r["entity_id"] for r in rows}
    # the same people across agencies and scripts, and the duplicate within ngo_north
    assert entity["ngo_north", "N2"] == entity["ngo_north", "N3"]
    assert entity["police_unit", "P-02"] == entity["hotline", "9"]
    assert entity["ngo_north", "N1"] != entity["ngo_north", "N2"]
    for agency in AGENCY_CSV:
        with (results / "agencies" / f"{agency}.csv").open(encoding="utf-8") as handle:
            own = list(csv.DictReader(handle))
        assert list(own[0]) == ["record_id", "entity_id", "known_elsewhere"]
        assert {r["record_id"] for r in own} == {rid for a, rid in records if a == agency}
        assert all(r["entity_id"] == entity[agency, r["record_id"]] for r in own)
        for r in own:
            owners = {a for (a, _), e in entity.items() if e == r["entity_id"]}
            assert r["known_elsewhere"] == ("1" if owners - {agency} else "0")
    stats = json.loads((results / "stats.json").read_text(encoding="utf-8"))
    assert stats["records"]["per_agency"] == {"ngo_north": 4, "police_unit": 3, "hotline": 3}
    assert stats["unique_persons"] == len(set(entity.values()))
    assert stats["duplicates_within_agency"]["ngo_north"] >= 1
    combos = {tuple(c["agencies"]): c["persons"] for c in stats["persons_by_agency_combination"]}
    assert combos[("police_unit", "hotline")] >= 1
    assert sum(combos.values()) == stats["unique_persons"]


def test_link_refuses_files_made_with_different_secrets(workspace: Path, capsys) -> None:
    run_cli(["keygen", "--out", str(workspace / "other.key")], capsys)
    assert encode(workspace, "ngo_north", capsys)[0] == 0
    assert encode(workspace, "hotline", capsys, secret="other.key")[0] == 0
    out_dir = workspace / "results"
    code, _, err = run_cli(
        ["link", str(workspace / "ngo_north.blk"), str(workspace / "hotline.blk"),
         "--out", str(out_dir)],
        capsys,
    )  # fmt: skip
    assert code == 6
    assert "different secrets" in err
    assert "ngo_north.blk" in err and "hotline.blk" in err
    assert len(err.strip().splitlines()) == 1
    assert not out_dir.exists()


def test_link_refuses_files_made_with_different_schemas(workspace: Path, capsys) -> None:
    from blindlink.schema import default_schema

    document = dict(default_schema().document, description="another schema")
    (workspace / "other.json").write_text(json.dumps(document), encoding="utf-8")
    assert encode(workspace, "ngo_north", capsys)[0] == 0
    code, _, err = run_cli(
        ["encode", str(workspace / "hotline.csv"), "--secret-file", str(workspace / "secret.key"),
         "--agency", "hotline", "--out", str(workspace / "hotline.blk"),
         "--schema", str(workspace / "other.json")],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    code, _, err = run_cli(
        ["link", str(workspace / "ngo_north.blk"), str(workspace / "hotline.blk"),
         "--out", str(workspace / "r")],
        capsys,
    )  # fmt: skip
    assert code == 6 and "different linkage schemas" in err


@pytest.mark.parametrize(
    ("content", "expected_code", "message"),
    [
        ("record_id,given_name,surname,date_of_birth,sex,nationality\n1,A,B,,,\n", 3,
         "missing column family_name"),
        ("", 3, "empty file"),
        (HEADER, 3, "header but no records"),
        (HEADER + "1,Ana,Silva,1990,F\n", 3, "line 2: 5 fields where the header has 6"),
    ],
)  # fmt: skip
def test_encode_bad_csv(
    workspace: Path, capsys, content: str, expected_code: int, message: str
) -> None:
    (workspace / "bad.csv").write_text(content, encoding="utf-8")
    out = workspace / "bad.blk"
    code, _, err = run_cli(
        ["encode", str(workspace / "bad.csv"), "--secret-file", str(workspace / "secret.key"),
         "--agency", "x", "--out", str(out)],
        capsys,
    )  # fmt: skip
    assert code == expected_code
    assert message in err and "bad.csv" in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not out.exists()
    assert sorted(p.name for p in workspace.iterdir() if p.name.startswith(".")) == []


def test_encode_unreadable_csv_and_missing_secret(workspace: Path, capsys) -> None:
    args = ["--agency", "x", "--out", str(workspace / "x.blk")]
    code, _, err = run_cli(
        ["encode", str(workspace / "nope.csv"), "--secret-file", str(workspace / "secret.key"),
         *args],
        capsys,
    )  # fmt: skip
    assert code == 3 and "nope.csv: cannot open" in err
    code, _, err = run_cli(
        ["encode", str(workspace / "hotline.csv"), "--secret-file", str(workspace / "no.key"),
         *args],
        capsys,
    )  # fmt: skip
    assert code == 7 and "no.key: cannot read the secret file" in err
    assert not (workspace / "x.blk").exists()


def test_link_on_a_corrupted_file_fails_cleanly(workspace: Path, capsys) -> None:
    assert encode(workspace, "hotline", capsys)[0] == 0
    blk = workspace / "hotline.blk"
    data = bytearray(blk.read_bytes())
    data[len(data) // 2] ^= 0x01
    blk.write_bytes(bytes(data))
    code, _, err = run_cli(["link", str(blk), "--out", str(workspace / "r")], capsys)
    assert code == 5 and "hotline.blk" in err
    assert not (workspace / "r").exists()


def test_unsafe_agency_name_is_refused(workspace: Path, capsys) -> None:
    code, _, err = run_cli(
        ["encode", str(workspace / "hotline.csv"), "--secret-file", str(workspace / "secret.key"),
         "--agency", "../escape", "--out", str(workspace / "h.blk")],
        capsys,
    )  # fmt: skip
    assert code == 3 and "agency" in err


def test_debug_shows_the_traceback(workspace: Path, capsys) -> None:
    code, _, err = run_cli(
        ["link", str(workspace / "missing.blk"), "--out", "r", "--debug"], capsys
    )
    assert code == 5
    assert "Traceback" in err


def test_secret_never_appears_in_outputs(workspace: Path, capsys) -> None:
    secret = (workspace / "secret.key").read_text().strip()
    outputs = [encode(workspace, agency, capsys) for agency in AGENCY_CSV]
    blks = [str(workspace / f"{a}.blk") for a in AGENCY_CSV]
    outputs.append(run_cli(["link", *blks, "--out", str(workspace / "r")], capsys))
    for _, out, err in outputs:
        assert secret not in out and secret not in err
    for path in [*workspace.glob("*.blk"), *(workspace / "r").rglob("*.*")]:
        assert secret.encode() not in path.read_bytes()


def test_demo_acts_out_the_roles_and_scores_the_result(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "demo"
    code, out, err = run_cli(
        ["demo", "--out", str(folder), "--persons", "400", "--seed", "3"], capsys
    )
    assert code == 0, err
    agencies = sorted(p.stem for p in (folder / "input").glob("*.csv"))
    assert len(agencies) == 4
    assert sorted(p.stem for p in (folder / "encoded").glob("*.blk")) == agencies
    assert (folder / "results" / "clusters.csv").exists()
    assert "unique persons" in out and "Persons by combination of agencies" in out
    f1 = float(out.split("F1 ")[-1].split()[0])
    assert 0.8 < f1 <= 1.0
    # the coordinator's outputs carry no plaintext: no name from the inputs appears in them
    with (folder / "input" / f"{agencies[0]}.csv").open(encoding="utf-8") as handle:
        names = {r["family_name"] for r in csv.DictReader(handle) if len(r["family_name"]) > 3}
    produced = b"".join(p.read_bytes() for p in (folder / "results").rglob("*.*"))
    produced += b"".join(p.read_bytes() for p in (folder / "encoded").glob("*.blk"))
    assert not any(name.encode() in produced for name in names)
    code, _, _ = run_cli(["demo", "--out", str(folder), "--persons", "100"], capsys)
    assert code == 0, "a second demo run replaces the previous demo folder"


def test_synth_writes_agency_files_and_truth(tmp_path: Path, capsys) -> None:
    code, out, err = run_cli(["synth", "--out", str(tmp_path / "d"), "--persons", "50"], capsys)
    assert code == 0, err
    assert (tmp_path / "d" / "truth.csv").exists()
    assert len(list((tmp_path / "d").glob("*.csv"))) == 5


def test_link_options_links_file_and_estimates(workspace: Path, capsys) -> None:
    for agency in ("ngo_north", "police_unit"):
        assert encode(workspace, agency, capsys)[0] == 0
    blks = [str(workspace / f"{a}.blk") for a in ("ngo_north", "police_unit")]
    for extra in (["--threshold", "auto"], ["--solver", "optimal"], ["--solver", "greedy"]):
        out_dir = workspace / f"r{extra[1]}"
        code, out, err = run_cli(["link", *blks, "--out", str(out_dir), *extra], capsys)
        assert code == 0, err
        stats = json.loads((out_dir / "stats.json").read_text(encoding="utf-8"))
        assert stats["linkage"]["solver"] == (extra[1] if extra[0] == "--solver" else "multiparty")
        with (out_dir / "links.csv").open(encoding="utf-8") as handle:
            links = list(csv.DictReader(handle))
        for link in links:
            assert 0.0 <= float(link["match_probability"]) <= 1.0
            assert float(link["score"]) >= stats["linkage"]["threshold"]
    code, _, err = run_cli(
        ["link", *blks, "--out", str(workspace / "x"), "--threshold", "high"], capsys
    )
    assert code == 3 and "--threshold must be a number" in err
    three = [*blks, str(workspace / "ngo_north.blk")]
    code, _, err = run_cli(["link", *three, "--out", str(workspace / "y")], capsys)
    assert code == 6 and "both are from agency 'ngo_north'" in err


def test_link_json_and_quiet(workspace: Path, capsys) -> None:
    for agency in AGENCY_CSV:
        assert encode(workspace, agency, capsys)[0] == 0
    blks = [str(workspace / f"{a}.blk") for a in AGENCY_CSV]
    code, out, err = run_cli(["link", *blks, "--out", str(workspace / "j"), "--json"], capsys)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["statistics"]["records"]["total"] == 10
    assert summary["files"]["agencies"]["hotline"].endswith("hotline.csv")
    named = workspace / "named"
    code, _, err = run_cli(["link", *blks, "--out", str(named), "--name-other-agencies"], capsys)
    assert code == 0, err
    with (named / "agencies" / "hotline.csv").open(encoding="utf-8") as handle:
        rows = {r["record_id"]: r for r in csv.DictReader(handle)}
    assert rows["9"]["known_elsewhere"] == "1" and rows["9"]["other_agencies"] == "police_unit"
    code, out, err = run_cli(["link", *blks, "--out", str(workspace / "q"), "--quiet"], capsys)
    assert code == 0 and out == "" and err == ""
    assert (workspace / "q" / "stats.json").exists()


FEBRL_CSV = (
    "rec_id,given_name,surname,street_number,address_1,address_2,suburb,postcode,state,"
    "date_of_birth,soc_sec_id\n"
    "rec-1-org,michaela,neumann,8,stanley street,miami,winston hills,4223,nsw,19151111,5304218\n"
    "rec-2-org,courtney,painter,12,pinkerton circuit,bega,richlands,4560,vic,19161214,4066625\n"
)


def test_clkhash_schema_encode_convert_and_link(workspace: Path, capsys) -> None:
    schema = Path(__file__).resolve().parents[1] / "protocols/examples/clkhash-febrl-v3.json"
    (workspace / "febrl.csv").write_text(FEBRL_CSV, encoding="utf-8")
    code, out, err = run_cli(
        ["encode", str(workspace / "febrl.csv"), "--secret-file", str(workspace / "secret.key"),
         "--agency", "a", "--out", str(workspace / "a.blk"), "--schema", str(schema),
         "--id-column", "rec_id"],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    code, _, err = run_cli(
        ["convert", str(workspace / "a.blk"), "--to", "anonlink-json",
         "--out", str(workspace / "a.json")],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    clks = json.loads((workspace / "a.json").read_text())["clks"]
    assert len(clks) == 2
    code, _, err = run_cli(
        ["convert", str(workspace / "a.json"), "--to", "blk", "--out", str(workspace / "b.blk"),
         "--agency", "b"],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    from blindlink.io.blk import read_blk

    original, converted = read_blk(workspace / "a.blk"), read_blk(workspace / "b.blk")
    assert (original.filters == converted.filters).all()
    code, _, err = run_cli(
        ["convert", str(workspace / "a.json"), "--to", "blk", "--out", str(workspace / "c.blk")],
        capsys,
    )  # fmt: skip
    assert code == 3 and "--agency is needed" in err


def test_estimate_from_reference_csv_and_errors(tmp_path: Path, capsys) -> None:
    reference = Path(__file__).resolve().parents[2] / "shared" / "mse-reference" / "UKdat.csv"
    csv_path = tmp_path / "uk.csv"
    if reference.exists():
        csv_path.write_bytes(reference.read_bytes())
    else:  # the UK table's main-effects cells are not needed here: any valid table works
        csv_path.write_text("A,B,C,count\n1,0,0,50\n0,1,0,40\n0,0,1,30\n1,1,0,10\n1,0,1,8\n"
                            "0,1,1,6\n1,1,1,2\n", encoding="utf-8")  # fmt: skip
    code, out, err = run_cli(
        ["estimate", str(csv_path), "--method", "main-effects", "--json"], capsys
    )
    assert code == 0, err
    result = json.loads(out)
    assert result["method"] == "main-effects"
    assert result["observed"] > 0 and result["estimate"] > result["observed"]
    low, high = result["ci95"]
    assert low < result["estimate"] < high
    if reference.exists():
        assert abs(result["estimate"] - 12214.0) / 12214.0 < 0.001
    (tmp_path / "bad.csv").write_text("A,B,total\n1,0,3\n", encoding="utf-8")
    code, _, err = run_cli(["estimate", str(tmp_path / "bad.csv")], capsys)
    assert code == 3 and "bad.csv" in err and "count" in err


def test_every_candidate_search_finds_the_same_persons_here(workspace: Path, capsys) -> None:
    for agency in AGENCY_CSV:
        assert encode(workspace, agency, capsys)[0] == 0
    blks = [str(workspace / f"{a}.blk") for a in AGENCY_CSV]
    searches = {
        "exact": "all pairs",
        "bounded": "all pairs, two bounded passes",
        "lsh": "LSH blocking",
    }
    outputs = {}
    for blocking, described in searches.items():
        out_dir = workspace / blocking
        code, _, err = run_cli(
            ["link", *blks, "--out", str(out_dir), "--blocking", blocking, "--seed", "4"], capsys
        )
        assert code == 0, err
        stats = json.loads((out_dir / "stats.json").read_text(encoding="utf-8"))
        assert stats["linkage"]["candidates"] == described
        outputs[blocking] = {
            path.relative_to(out_dir): path.read_bytes() for path in sorted(out_dir.rglob("*.csv"))
        }
    assert outputs["exact"] == outputs["bounded"]  # the same links, scores and probabilities
    assert outputs["exact"][Path("clusters.csv")] == outputs["lsh"][Path("clusters.csv")]
    code, _, err = run_cli(
        ["link", *blks, "--out", str(workspace / "z"), "--blocking", "x"], capsys
    )
    assert code == 3 and "blocking must be" in err


def test_schema_show_and_validate(tmp_path: Path, capsys) -> None:
    from blindlink.schema import default_schema

    code, out, _ = run_cli(["schema", "show"], capsys)
    assert code == 0 and json.loads(out) == default_schema().document
    (tmp_path / "default.json").write_text(out, encoding="utf-8")
    code, out, _ = run_cli(["schema", "validate", str(tmp_path / "default.json")], capsys)
    assert code == 0 and "valid blindlink schema" in out
    examples = Path(__file__).resolve().parents[1] / "protocols" / "examples"
    code, out, _ = run_cli(["schema", "validate", str(examples / "clkhash-febrl-v3.json")], capsys)
    assert code == 0 and "valid clkhash v3 schema" in out
    code, _, err = run_cli(["schema", "validate", str(examples / "invalid-schema.json")], capsys)
    assert code == 4
    for location in (
        "$.encoding.filter_bits",
        "$.fields[0].features[0].hashes",
        "$.fields[0].features[0].n",
        "$.fields[1].type",
    ):
        assert location in err
    assert len(err.strip().splitlines()) == 1


def test_secret_from_environment_passphrase_and_missing(
    workspace: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    csv_path = str(workspace / "hotline.csv")
    args = ["encode", csv_path, "--agency", "hotline"]
    monkeypatch.setenv("BLINDLINK_SECRET_FILE", str(workspace / "secret.key"))
    assert run_cli([*args, "--out", str(workspace / "env-file.blk")], capsys)[0] == 0
    assert encode(workspace, "hotline", capsys)[0] == 0
    from blindlink.io.blk import read_blk

    by_flag = read_blk(workspace / "hotline.blk")
    by_env = read_blk(workspace / "env-file.blk")
    assert by_flag.key_check == by_env.key_check
    monkeypatch.delenv("BLINDLINK_SECRET_FILE")
    monkeypatch.setenv("BLINDLINK_SECRET", "correct horse battery staple")
    for name in ("p1", "p2"):
        code, _, err = run_cli(
            [*args, "--passphrase", "--out", str(workspace / f"{name}.blk")], capsys
        )
        assert code == 0, err
    assert read_blk(workspace / "p1.blk").key_check == read_blk(workspace / "p2.blk").key_check
    assert read_blk(workspace / "p1.blk").key_check != by_flag.key_check
    monkeypatch.setenv("BLINDLINK_SECRET", "short")
    code, _, err = run_cli([*args, "--passphrase", "--out", str(workspace / "p3.blk")], capsys)
    assert code == 7 and "passphrase is too short" in err
    monkeypatch.delenv("BLINDLINK_SECRET")
    code, _, err = run_cli([*args, "--out", str(workspace / "none.blk")], capsys)
    assert code == 7 and "no secret given" in err
    assert not (workspace / "none.blk").exists()


def test_encode_with_two_workers_writes_the_same_file(workspace: Path, capsys) -> None:
    code, _, err = encode(workspace, "ngo_north", capsys)
    assert code == 0, err
    single = (workspace / "ngo_north.blk").read_bytes()
    code, _, err = run_cli(
        [
            "encode", str(workspace / "ngo_north.csv"),
            "--secret-file", str(workspace / "secret.key"),
            "--agency", "ngo_north", "--out", str(workspace / "two.blk"), "--workers", "2",
        ],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    assert (workspace / "two.blk").read_bytes() == single
    code, _, err = run_cli(
        ["encode", str(workspace / "ngo_north.csv"), "--agency", "x", "--out", "y.blk",
         "--workers", "0"],
        capsys,
    )  # fmt: skip
    assert code == 2
