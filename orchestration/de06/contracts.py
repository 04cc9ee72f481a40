"""The feed contracts: each feed declared once.

A feed is declared here and nowhere else: its columns with their raw types, which are
required, the values an enumerated column may take, which typed codes the staging models
NFC-normalise, the key of a version and which version wins, and the reasons a row or a file
is refused (in English and Vietnamese). What reads these declarations:

* the raw tables (``de06.warehouse.RAW_DDL``) are generated from them;
* the ingest's checks (``de06.ingest.dossiers``, ``.submissions``, ``.tasks``) take their
  columns, required columns and enumerations from them;
* the Spark export (``de06.lake.NFC_COLUMNS``) takes the normalised columns from them;
* the raw Great Expectations suites, the staging models' ``accepted_values`` tests and their
  ``nfc()`` calls are tested against them (tests/python/test_feed_contracts.py): a drift fails.

Adding a feed: docs/design.md, "Adding a feed".
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    type: str = "varchar"  # the raw table's DuckDB type; the file's text is checked against it
    required: bool = False
    values: tuple[str, ...] = ()  # an enumeration: the values allowed (stored lower-case)
    normalised: bool = False  # a typed code or name the staging model NFC-normalises
    stored_as: str | None = None  # the raw column, when not the file's (a pseudonym)
    description: str = ""


@dataclass(frozen=True)
class Feed:
    name: str  # also the landing folder (landing/<name>/) and the raw table (raw.<name>)
    title_vi: str
    # a header naming this column is this feed's (when not in its folder); None for a feed
    # told by its file name (``name_pattern``)
    detect_by: str | None
    formats: tuple[str, ...]  # the file formats accepted
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # what one version is of
    winner: str  # which version wins, in words (the ingest and the staging models apply it)
    reasons: tuple[str, ...]  # the row-level reason codes this feed's checks give
    # small files (typed by people, or the portal's answers) parsed whole in Python: held to
    # the sheet size limit (Settings.max_sheet_mb) as well as to the file size limit
    parsed_in_python: bool = False
    # the raw table's columns after the contract's: extra columns as JSON, the load, the row
    bookkeeping: tuple[str, ...] = (
        "extra_columns json",
        "_load_id bigint not null",
        "_row_number bigint not null",
    )
    # a feed told by its file name: the name's pattern (a regular expression), in words
    name_pattern: str | None = None
    name_pattern_words: str = ""
    # a file refused whole is copied into the quarantine as sent; not a feed whose files carry
    # personal data in fields the ingest cannot tell apart before reading (the sync payload)
    copy_rejected_files: bool = True

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def enums(self) -> dict[str, tuple[str, ...]]:
        return {c.name: c.values for c in self.columns if c.values}

    @property
    def normalised(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.normalised)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def raw_ddl(self) -> str:
        """The raw table's ``create table``: the contract's columns as stored, then the
        bookkeeping (extra columns as JSON, the load and the row in the file)."""
        cols = [f"    {c.stored_as or c.name} {c.type}" for c in self.columns]
        cols += [f"    {column}" for column in self.bookkeeping]
        return f"create table if not exists raw.{self.name} (\n" + ",\n".join(cols) + "\n);"


# every reason a row or a whole file is refused: code -> (English, Vietnamese). The English
# text of a problem names its column and value; this is the reason's general name
REASONS: dict[str, tuple[str, str]] = {
    "missing_value": ("a required value is missing", "Thiếu giá trị bắt buộc"),
    "bad_type": ("not of the column's type", "Sai kiểu dữ liệu"),
    "bad_value": ("not one of the values allowed", "Giá trị không hợp lệ"),
    "duplicate_row": ("the same row twice in the file", "Dòng trùng lặp trong tệp"),
    "unknown_unit": ("unknown unit code", "Mã đơn vị không tồn tại"),
    "unit_not_valid_in_period": (
        "the unit did not exist then",
        "Đơn vị không tồn tại trong kỳ báo cáo",
    ),
    "unknown_indicator": ("unknown indicator code", "Mã chỉ tiêu không có trong danh mục"),
    "bad_period": ("not a reporting period", "Kỳ báo cáo không hợp lệ"),
    "future_period": ("the period lies in the future", "Kỳ báo cáo ở tương lai"),
    "bad_number": ("not a number", "Không đọc được số"),
    "negative": ("a negative number", "Số âm"),
    "numerator_above_denominator": ("numerator above denominator", "Tử số lớn hơn mẫu số"),
    "rate_above_100": ("a rate above 100%", "Tỷ lệ lớn hơn 100%"),
    "no_figures": (
        "no figures (numerator and denominator, or value)",
        "Thiếu số liệu (cần tử số và mẫu số, hoặc giá trị)",
    ),
    "counts_incomplete": (
        "only one of numerator and denominator",
        "Chỉ có một trong tử số và mẫu số",
    ),
    "value_conflict": (
        "the value disagrees with numerator / denominator",
        "Giá trị không khớp với tử số / mẫu số",
    ),
    "rank_above_ranked_of": (
        "rank above the number of units ranked",
        "Thứ hạng lớn hơn số đơn vị được xếp hạng",
    ),
    "impossible_date": (
        "a date before the dossier was received",
        "Ngày không thể xảy ra (trước ngày tiếp nhận)",
    ),
    "future_date": ("a date in the future", "Ngày ở tương lai"),
    "formula_not_computed": (
        "a formula cell with no saved value",
        "Ô công thức chưa có giá trị (mở và lưu lại tệp trong Excel)",
    ),
    # a whole file
    "unreadable_file": ("the file cannot be read", "Không đọc được tệp"),
    "file_too_large": ("the file is over the size limit", "Tệp vượt quá giới hạn dung lượng"),
    "missing_columns": ("required columns are missing", "Tệp thiếu cột bắt buộc"),
    "duplicate_columns": ("a column name appears twice", "Tệp có cột trùng tên"),
    "empty_file": ("the file holds no rows", "Tệp không có dữ liệu"),
    "unknown_feed": ("not a known feed", "Không nhận ra loại dữ liệu của tệp"),
    "bad_file_name": (
        "the file name does not say what the file holds",
        "Tên tệp không đúng quy ước (không rõ trang, kỳ hoặc ngày tải)",
    ),
    "portal_error": ("the portal answered with an error", "Cổng DVC quốc gia trả về lỗi"),
    "unmatched_unit": (
        "no unit of the warehouse has this name",
        "Không khớp được tên đơn vị với danh mục",
    ),
}
FILE_REASONS = (
    "unreadable_file",
    "file_too_large",
    "missing_columns",
    "duplicate_columns",
    "empty_file",
    "unknown_feed",
    "bad_file_name",
    "portal_error",
)


def reason_vi(code: str) -> str:
    return REASONS[code][1] if code in REASONS else code


DOSSIERS = Feed(
    name="dossiers",
    title_vi="Hồ sơ thủ tục hành chính",
    detect_by="dossier_id",
    formats=("csv", "parquet"),
    columns=(
        Column("source_system", required=True, values=("provincial", "national_portal")),
        Column("dossier_id", required=True),
        Column("agency_code", required=True, normalised=True),
        Column("unit_code", required=True, normalised=True),
        Column("procedure_code"),
        Column("received_at", "timestamp", required=True),
        Column("channel", required=True, values=("online", "direct", "postal")),
        Column("online_level", values=("full", "partial")),
        Column("due_at", "timestamp", required=True),
        Column("finished_at", "timestamp"),
        Column(
            "status",
            required=True,
            values=("received", "processing", "finished", "returned", "withdrawn", "rejected"),
        ),
        Column("fee_amount", "bigint"),
        Column("payment_channel", values=("online", "cash", "bank_transfer")),
        Column("is_digitized", "boolean"),
        Column("has_e_result", "boolean"),
        Column("reused_data", "boolean"),
        Column("identity_verified", "boolean"),
        Column(
            "applicant_id",
            stored_as="applicant_key",
            description="HMAC-SHA256 of applicant_id; the clear ID is never stored",
        ),
        Column("satisfaction", values=("very_satisfied", "satisfied", "neutral", "dissatisfied")),
        Column("synced_national_at", "timestamp"),
        Column("updated_at", "timestamp", required=True),
    ),
    key=("source_system", "dossier_id"),
    winner="the newest updated_at, then the later load (the same version twice in a file: "
    "the later copy is a duplicate_row)",
    reasons=(
        "missing_value",
        "bad_type",
        "bad_value",
        "negative",
        "impossible_date",
        "future_date",
        "unknown_unit",
        "unit_not_valid_in_period",
        "duplicate_row",
    ),
    # the load whose version of the dossier won over this one (null while this is the current
    # version): set by the ingest, so the marts take the current versions by a filter
    bookkeeping=(
        "extra_columns json",
        "_load_id bigint not null",
        "_row_number bigint not null",
        "_superseded_by_load_id bigint",
    ),
)

SUBMISSIONS = Feed(
    name="submissions",
    title_vi="Số liệu báo cáo định kỳ",
    detect_by="indicator_code",
    formats=("csv", "xlsx"),
    columns=(
        Column("unit_code", required=True, normalised=True),
        Column("period", required=True),
        Column("as_of", "date"),
        Column("indicator_code", required=True),
        Column("dimension", normalised=True),
        Column("numerator", "double"),
        Column("denominator", "double"),
        Column("value", "double"),
        Column("target", "double"),
        Column("rank", "integer"),
        Column("ranked_of", "integer"),
    ),
    parsed_in_python=True,
    key=("unit_code", "period", "indicator_code", "dimension"),
    winner="the later load (in one file: identical rows, the first; different rows, neither)",
    reasons=(
        "missing_value",
        "bad_type",
        "bad_period",
        "future_period",
        "unknown_unit",
        "unit_not_valid_in_period",
        "unknown_indicator",
        "bad_number",
        "negative",
        "counts_incomplete",
        "no_figures",
        "numerator_above_denominator",
        "rate_above_100",
        "value_conflict",
        "rank_above_ranked_of",
        "formula_not_computed",
        "duplicate_row",
    ),
)

TASKS = Feed(
    name="tasks",
    title_vi="Nhiệm vụ Đề án 06",
    detect_by="task_id",
    formats=("csv", "xlsx"),
    columns=(
        Column("unit_code", required=True, normalised=True),
        Column("year", "integer", required=True),
        Column("task_id", required=True),
        Column("title", normalised=True),
        Column("origin", values=("central", "provincial")),
        Column("deadline", "date"),
        Column("status", required=True, values=("done", "in_progress", "not_started")),
        Column("updated_at", "timestamp", required=True),
    ),
    parsed_in_python=True,
    key=("unit_code", "year", "task_id"),
    winner="the newest updated_at, then the later load and row",
    reasons=(
        "missing_value",
        "bad_type",
        "bad_value",
        "unknown_unit",
        "formula_not_computed",
    ),
)

# the national portal's evaluation pages of the 766 index (spec/index766.md §2): page -> group
PORTAL766_PAGES = {
    "transparency": "CKMB",
    "dvc-progress-tree": "TDGQ",
    "provide-online-tree": "CLGQ",
    "formality-online-payment-tree": "TTTT",
    "handling-satisfaction": "MDHL",
    "dossier-digitized": "MDSH",
}

PORTAL766 = Feed(
    name="portal766",
    title_vi="Kết quả đánh giá Bộ chỉ số 766 của Cổng DVC quốc gia",
    detect_by=None,
    name_pattern=(
        r"portal766__(?P<page>[^_.]+)__(?P<period>[^_.]+)(?:__(?P<captured>[^_.]+))?\.json"
    ),
    name_pattern_words="portal766__<page>__<period>[__<captured YYYY-MM-DD>].json",
    formats=("json",),
    parsed_in_python=True,
    # one row per unit of the page and metric of the unit (a tree page's unit: one row, its
    # group's); the file's name gives page, period and capture date
    columns=(
        Column("page", required=True, values=tuple(PORTAL766_PAGES)),
        Column("period", required=True),
        Column("captured_on", "date", required=True),
        Column(
            "unit_code",
            required=True,
            normalised=True,
            description="the warehouse's unit, matched by name (de06.portal_units)",
        ),
        Column(
            "is_parent",
            "boolean",
            required=True,
            description="the page's overview or parent (the province), else one of its units",
        ),
        Column("department_id", required=True),
        Column("department_code"),
        Column("department_name", required=True, normalised=True),
        Column("department_type"),
        Column("department_level"),
        Column("unit_total_score", "double"),
        Column("unit_total_max_score", "double"),
        Column("unit_ratio", "double"),
        Column("metric_code", required=True),
        Column("metric_name", normalised=True),
        Column("numerator", "double"),
        Column("denominator", "double"),
        Column("ratio", "double"),
        Column("score", "double"),
        Column("max_score", "double"),
        Column("data_quality_status"),
        Column("data_quality_message"),
        # the tree pages' counts (progress; payment A, B, C; the parent's channels)
        Column("total_received", "double"),
        Column("total_on_time", "double"),
        Column("total_overdue", "double"),
        Column("total_completed", "double"),
        Column("avg_processing_days", "double"),
        Column("dossiers_paid_online", "double"),
        Column("dossiers_with_obligation", "double"),
        Column("fee_procedures_paying_online", "double"),
        Column("fee_procedures_fee_synced", "double"),
        Column("fee_procedures", "double"),
        Column("fee_procedures_distinct", "double"),
        Column("channel_online", "double"),
        Column("channel_direct", "double"),
        Column("channel_postal", "double"),
        Column("channel_total", "double"),
    ),
    key=("page", "period", "unit_code", "metric_code"),
    winner="the latest capture of the page and period, then the later load (both kept)",
    reasons=("unmatched_unit", "bad_number", "negative", "missing_value", "duplicate_row"),
)

# the national portal's synchronisation API: the dossier statuses a provincial system sends
# (TrangThaiHoSo, and TrangThai of a status update) -> the dossier feed's status
DVCQG_STATUSES = {
    "1": "received",  # mới đăng ký
    "2": "received",  # được tiếp nhận
    "3": "rejected",  # không được tiếp nhận
    "4": "processing",  # đang xử lý
    "5": "processing",  # yêu cầu bổ sung giấy tờ
    "6": "processing",  # yêu cầu thực hiện nghĩa vụ tài chính
    "7": "withdrawn",  # công dân yêu cầu rút hồ sơ
    "8": "rejected",  # dừng xử lý
    "9": "finished",  # đã xử lý xong
    "10": "finished",  # đã trả kết quả
}
# KenhThucHien -> channel (missing: direct, as the portal counts it)
DVCQG_CHANNELS = {"1": "direct", "2": "online", "3": "postal"}

DVCQG = Feed(
    name="dvcqg",
    title_vi="Gói tin đồng bộ hồ sơ lên Cổng DVC quốc gia",
    detect_by=None,
    name_pattern=r"dvcqg__(?P<province>[^_.]+)__(?P<batch>[^.]+)\.jsonl?",
    name_pattern_words="dvcqg__<province code>__<batch>.json (or .jsonl)",
    formats=("json",),
    copy_rejected_files=False,
    # the file's dossier payloads are dossier versions: they go through the dossier feed's
    # checks into raw.dossiers (source_system `provincial`); this feed's raw table holds its
    # status updates, the dossiers' process log (QuaTrinhXuLy)
    columns=(
        Column("province_code", required=True, description="the province whose system sent it"),
        Column("dossier_id", required=True, description="MaHoSo"),
        Column("status", required=True, values=tuple(sorted(set(DVCQG_STATUSES.values())))),
        Column("status_code", required=True, description="TrangThai as sent (1-10)"),
        Column("processed_at", "timestamp", required=True, description="ThoiDiemXuLy"),
        Column("department", description="PhongBanXuLy"),
        Column("started_at", "timestamp", description="NgayBatDau"),
        Column("due_by_rule_at", "timestamp", description="NgayKetThucTheoQuyDinh"),
    ),
    key=("province_code", "dossier_id", "processed_at", "status_code"),
    winner="every status update is kept (a log); the same update twice in a file: a duplicate_row",
    reasons=(
        "missing_value",
        "bad_type",
        "bad_value",
        "impossible_date",
        "future_date",
        "unknown_unit",
        "unit_not_valid_in_period",
        "unmatched_unit",
        "duplicate_row",
    ),
)

FEEDS: dict[str, Feed] = {
    feed.name: feed for feed in (DOSSIERS, SUBMISSIONS, TASKS, PORTAL766, DVCQG)
}
# the ingest's own tables beside the feeds' (warehouse.RAW_DDL), and every raw table
LEDGER_TABLES = ("load_files", "quarantine")
RAW_TABLES = ("load_files", *FEEDS, "quarantine")
