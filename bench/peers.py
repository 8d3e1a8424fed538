"""Peer linkers on a generated round: Splink (DuckDB, EM-trained) and the
Python recordlinkage toolkit (blocking + ECM).

Both read the same raw roster and survey files that `taizhang reconcile`
reads (python-calamine for xlsx, the csv module for csv), do the cleaning a
data team would do before linking (fill merged village cells down, parse
the six date spellings, IDs typed as numbers back to digits, pinyin key),
link survey rows to roster rows, and keep each survey row's best candidate
above the decision threshold.

Usage: python peers.py {splink|recordlinkage} DIR OUT.csv [TIMINGS.json]
Writes OUT.csv: survey_file,survey_row,roster_file,roster_row,score
"""

import csv
import datetime as dt
import json
import os
import re
import sys
import time

import pandas as pd
from pypinyin import lazy_pinyin

ROSTER_COLS = {
    "name": ["姓名"],
    "id": ["证件号码"],
    "sex": ["性别"],
    "birth": ["出生日期"],
    "village": ["行政村"],
}
SURVEY_COLS = {
    "name": ["学生姓名", "姓名"],
    "id": ["身份证号（必填）", "身份证号码"],
    "sex": ["性别"],
    "birth": ["出生年月", "出生日期"],
    "village": ["村别", "村（社区）"],
}
ROSTER_HEADER_ROW = 3  # 1-based Excel rows, as the generator writes them
SURVEY_HEADER_ROW = 5


def read_grid(path):
    """All rows of the first sheet as lists of raw values."""
    if path.endswith(".csv"):
        with open(path, encoding="utf-8-sig", newline="") as f:
            return list(csv.reader(f))
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(path)
    return wb.get_sheet_by_index(0).to_python(skip_empty_area=False)


def clean_id(v):
    if isinstance(v, float):
        return "%d" % v
    if isinstance(v, int):
        return str(v)
    s = str(v or "").strip().replace(" ", "").upper()
    if re.fullmatch(r"\d(\.\d+)?E\+\d+", s):  # 6.10922E+17 from a csv
        return "%d" % float(s)
    return s


DATE_RE = re.compile(r"(\d{4})\D{0,1}(\d{1,2})\D{0,1}(\d{1,2})")


def clean_birth(v):
    if isinstance(v, (dt.date, dt.datetime)):
        return v.strftime("%Y-%m-%d")
    if isinstance(v, float):  # a date serial
        return (dt.date(1899, 12, 30) + dt.timedelta(days=int(v))).strftime("%Y-%m-%d")
    s = str(v or "").strip()
    m = re.fullmatch(r"(\d{4})(\d{2})(\d{2})", s) or DATE_RE.search(s)
    if not m:
        return ""
    y, mo, d = (int(x) for x in m.groups())
    return "%04d-%02d-%02d" % (y, mo, d)


def clean_name(v):
    s = re.sub(r"\s+", "", str(v or ""))
    return s.replace("•", "·").replace("．", "·").replace(".", "·")


def clean_sex(v):
    s = str(v or "").strip()
    return {"男": "M", "女": "F"}.get(s, s)


def load_table(path, header_row, cols, fill_down_village):
    grid = read_grid(path)
    header = [str(c).strip() for c in grid[header_row - 1]]
    idx = {}
    for key, names in cols.items():
        for n in names:
            if n in header:
                idx[key] = header.index(n)
                break
        else:
            raise SystemExit(f"{path}: no column {names}")
    rows = []
    village = ""
    name_base = os.path.basename(path)
    for k, row in enumerate(grid[header_row:], start=header_row + 1):
        get = lambda key: row[idx[key]] if idx[key] < len(row) else ""
        name = clean_name(get("name"))
        ident = clean_id(get("id"))
        if not name and not ident:
            continue
        v = str(get("village") or "").strip()
        if v:
            village = v
        elif fill_down_village:
            v = village
        rows.append(
            {
                "unique_id": f"{name_base}|{k}",
                "name": name,
                "name_pinyin": "".join(lazy_pinyin(name)),
                "id": ident,
                "id14": ident[:14],
                "sex": clean_sex(get("sex")),
                "birth": clean_birth(get("birth")),
                "village": v,
            }
        )
    return rows


def load_round(d):
    files = sorted(os.listdir(d))
    roster = [f for f in files if f.startswith("县局名单") and f.endswith((".xlsx", ".csv"))]
    surveys = [f for f in files if f.startswith("附件1_") and f.endswith((".xlsx", ".csv"))]
    r = load_table(os.path.join(d, roster[0]), ROSTER_HEADER_ROW, ROSTER_COLS, False)
    s = []
    for f in surveys:
        s += load_table(os.path.join(d, f), SURVEY_HEADER_ROW, SURVEY_COLS, True)
    df_r = pd.DataFrame(r).replace({"": None})
    df_s = pd.DataFrame(s).replace({"": None})
    return df_r, df_s


def best_per_survey(pairs, survey_col, roster_col, score_col, threshold):
    """Each survey row's best roster candidate with score >= threshold."""
    p = pairs[pairs[score_col] >= threshold]
    p = p.sort_values(score_col, ascending=False).drop_duplicates(survey_col)
    return [(s, r, sc) for s, r, sc in zip(p[survey_col], p[roster_col], p[score_col])]


def run_splink(df_r, df_s, timings):
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    t = time.perf_counter()
    db = DuckDBAPI()
    settings = SettingsCreator(
        link_type="link_only",
        blocking_rules_to_generate_predictions=[
            block_on("birth"),
            block_on("id14"),
            block_on("name"),
        ],
        comparisons=[
            cl.NameComparison("name"),
            cl.ExactMatch("name_pinyin"),
            cl.LevenshteinAtThresholds("id", [1, 2]),
            cl.LevenshteinAtThresholds("birth", [1, 2]),
            cl.ExactMatch("sex"),
            cl.ExactMatch("village"),
        ],
        probability_two_random_records_match=1.0 / max(len(df_r), 1),
        retain_matching_columns=False,
    )
    roster = db.register(df_r, table_name="roster")
    survey = db.register(df_s, table_name="survey")
    linker = Linker([roster, survey], settings, log_level=40)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("birth"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("name"))
    timings["train_s"] = time.perf_counter() - t
    t = time.perf_counter()
    pred = linker.inference.predict(threshold_match_probability=0.01).as_pandas_dataframe()
    timings["predict_s"] = time.perf_counter() - t
    timings["candidate_pairs_above_0.01"] = len(pred)
    # which side is the survey: source_dataset_l/_r name the registered tables
    left_is_survey = pred["unique_id_l"].astype(str).str.startswith("附件1_")
    pred["survey"] = pred["unique_id_l"].where(left_is_survey, pred["unique_id_r"])
    pred["roster"] = pred["unique_id_r"].where(left_is_survey, pred["unique_id_l"])
    return best_per_survey(pred, "survey", "roster", "match_probability", 0.5)


def run_recordlinkage(df_r, df_s, timings):
    import recordlinkage as rl

    t = time.perf_counter()
    r = df_r.set_index("unique_id")
    s = df_s.set_index("unique_id")
    idx = rl.Index()
    idx.block("birth")
    idx.block("id14")
    idx.block("name")
    cand = idx.index(s, r)
    timings["candidate_pairs"] = len(cand)
    timings["index_s"] = time.perf_counter() - t
    t = time.perf_counter()
    cmp = rl.Compare()
    cmp.string("name", "name", method="jarowinkler", threshold=0.85, label="name")
    cmp.exact("name_pinyin", "name_pinyin", label="pinyin")
    cmp.string("id", "id", method="levenshtein", threshold=0.85, label="id")
    cmp.exact("birth", "birth", label="birth")
    cmp.exact("sex", "sex", label="sex")
    cmp.exact("village", "village", label="village")
    feats = cmp.compute(cand, s, r)
    timings["compare_s"] = time.perf_counter() - t
    t = time.perf_counter()
    ecm = rl.ECMClassifier(binarize=None)
    ecm.fit(feats)
    prob = ecm.prob(feats)
    timings["ecm_s"] = time.perf_counter() - t
    pairs = pd.DataFrame(
        {
            "survey": prob.index.get_level_values(0),
            "roster": prob.index.get_level_values(1),
            "p": prob.values,
        }
    )
    return best_per_survey(pairs, "survey", "roster", "p", 0.5)


def main():
    tool, d, out = sys.argv[1], sys.argv[2], sys.argv[3]
    timings = {}
    t0 = time.perf_counter()
    df_r, df_s = load_round(d)
    timings["read_clean_s"] = time.perf_counter() - t0
    links = run_splink(df_r, df_s, timings) if tool == "splink" else run_recordlinkage(df_r, df_s, timings)
    timings["total_s"] = time.perf_counter() - t0
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["survey_file", "survey_row", "roster_file", "roster_row", "score"])
        for s, r, sc in links:
            sf, sr = s.rsplit("|", 1)
            rf, rr = r.rsplit("|", 1)
            w.writerow([sf, sr, rf, rr, "%.4f" % sc])
    if len(sys.argv) > 4:
        with open(sys.argv[4], "w") as f:
            json.dump(timings, f, indent=1)
    print(json.dumps(timings), file=sys.stderr)


if __name__ == "__main__":
    main()
