{#- The 0/1 flags int_dossiers__enriched carries per dossier, in the order the models list them. -#}
{% macro dossier_measures() -%}
    {{ return([
        'n_received', 'n_online', 'n_full_online', 'n_finished', 'n_finished_on_time',
        'n_closed_in_time', 'n_paid', 'n_paid_online', 'n_digitized', 'n_e_result',
        'n_reused_data', 'n_identity_verified', 'n_rated', 'n_satisfied', 'n_synced_national',
        'n_fee_charged', 'n_dissatisfied', 'n_digitized_e_result',
    ]) }}
{%- endmacro %}


{#- `sum(m)::bigint as m` for each dossier measure but those in `exclude`, comma-separated. -#}
{% macro sum_dossier_measures(exclude=[]) -%}
    {%- for measure in dossier_measures() if measure not in exclude %}
        sum({{ measure }})::bigint as {{ measure }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}


{#- The measures of int_dossier_measures__monthly: n_in_time in place of n_closed_in_time. -#}
{% macro monthly_dossier_measures() -%}
    {%- set measures = [] -%}
    {%- for measure in dossier_measures() -%}
        {%- do measures.append('n_in_time' if measure == 'n_closed_in_time' else measure) -%}
    {%- endfor -%}
    {{ return(measures) }}
{%- endmacro %}


{#- The counts of int_dossier_reconciliation__monthly, in its order. -#}
{% macro reconciliation_measures() -%}
    {{ return([
        'n_provincial', 'n_portal', 'n_matched', 'n_only_provincial', 'n_only_portal',
        'n_status_mismatch', 'n_unit_mismatch', 'n_matched_via_successor', 'n_provincial_says_synced',
    ]) }}
{%- endmacro %}


{#- The period grains a dossier's "in time" is judged at the end of (Decision 766 on the
    portal's scale, spec/index766.md §1), and the counts judged there: per grain g,
    `n_in_time_at_<g>_end` (closed by its due time, or still open and not yet due, at the end of
    the g-period the dossier was received in) and `n_receiving_satisfied_at_<g>_end` (the same,
    and not rated dissatisfied). int_dossier_counts__monthly counts the closed dossiers
    (`n_closed_...`), int_dossier_measures__monthly adds the open ones. -#}
{% macro period_end_grains() -%}
    {{ return(['month', 'quarter', 'half_year', 'year']) }}
{%- endmacro %}

{% macro period_end_measures(prefix='n_') -%}
    {%- set measures = [] -%}
    {%- for grain in period_end_grains() -%}
        {%- do measures.append(prefix ~ 'in_time_at_' ~ grain ~ '_end') -%}
        {%- do measures.append(prefix ~ 'receiving_satisfied_at_' ~ grain ~ '_end') -%}
    {%- endfor -%}
    {{ return(measures) }}
{%- endmacro %}


{#- When "in time" is judged for the dossiers received in `month` (a month's first day) over a
    period of `grain`: the end of that period (the next period's first instant), as the portal
    judges it; or never (the end of time: a dossier still open is judged at the feed's newest
    update), when the var `index_766_in_time_judged_at` is `newest_update`. -#}
{% macro period_end_after(grain, month) -%}
    {%- set judged_at = var('index_766_in_time_judged_at') -%}
    {%- if judged_at == 'newest_update' -%}
        cast({{ end_of_time() }} as timestamp)
    {%- elif judged_at != 'period_end' -%}
        {{ exceptions.raise_compiler_error(
            "var index_766_in_time_judged_at is '" ~ judged_at ~ "': say period_end or newest_update") }}
    {%- elif grain == 'month' -%}
        cast({{ month }} + interval 1 month as timestamp)
    {%- elif grain == 'quarter' -%}
        cast(date_trunc('quarter', {{ month }}) + interval 3 month as timestamp)
    {%- elif grain == 'half_year' -%}
        cast(case
            when month({{ month }}) <= 6 then date_trunc('year', {{ month }}) + interval 6 month
            else date_trunc('year', {{ month }}) + interval 12 month
        end as timestamp)
    {%- elif grain == 'year' -%}
        cast(date_trunc('year', {{ month }}) + interval 12 month as timestamp)
    {%- else -%}
        {{ exceptions.raise_compiler_error("no period grain " ~ grain) }}
    {%- endif -%}
{%- endmacro %}


{#- The sums of the counts judged at each period grain's end, comma-separated, for the dossiers
    of relation `v` (received_month, due_at, closed_at, n_dissatisfied):
    `closed` (int_dossier_counts__monthly): closed by the due time, or closed after the period's
    end and not due at it — least(closed, end) <= due;
    `open` (int_dossier_measures__monthly, over the open dossiers, `as_of` the feed's newest
    update): not due at the period's end, or at the newest update if that comes first. -#}
{% macro sum_in_time_at_period_ends(part, v=none, as_of=none) -%}
    {%- set p = (v ~ '.') if v else '' -%}
    {%- for grain in period_end_grains() -%}
        {%- set period_end = period_end_after(grain, p ~ 'received_month') -%}
        {%- if part == 'closed' -%}
            {%- set in_time = p ~ 'closed_at is not null and least(' ~ p ~ 'closed_at, ' ~ period_end ~ ') <= ' ~ p ~ 'due_at' -%}
        {%- else -%}
            {%- set in_time = p ~ 'due_at >= least(' ~ period_end ~ ', ' ~ as_of ~ ')' -%}
        {%- endif %}
        sum(case when {{ in_time }} then 1 else 0 end)::bigint as n_{{ part }}_in_time_at_{{ grain }}_end,
        sum(case when {{ in_time }} and {{ p }}n_dissatisfied = 0 then 1 else 0 end)::bigint
            as n_{{ part }}_receiving_satisfied_at_{{ grain }}_end{{ ',' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}


{#- int_dossier_measures__monthly's counts judged at each period grain's end: the closed
    dossiers' (`closed`, int_dossier_counts__monthly) plus the open ones' (`open`, may be null). -#}
{% macro add_in_time_at_period_ends(closed, open) -%}
    {%- for measure in period_end_measures(prefix='') %}
    {{ closed }}.n_closed_{{ measure }} + coalesce({{ open }}.n_open_{{ measure }}, 0) as n_{{ measure }}{{ ',' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}


{#- An inline table (measure, period_grain, period_measure) of the counts judged at a period
    grain's end and the name a period of that grain takes them under
    (`n_in_time_at_quarter_end`, `quarter`, `n_in_time_at_period_end`). -#}
{% macro period_end_measure_names() -%}
    (
        values
        {%- for grain in period_end_grains() %}
        {%- set outer = loop %}
        {%- for counted in ['in_time', 'receiving_satisfied'] %}
        ('n_{{ counted }}_at_{{ grain }}_end', '{{ grain }}', 'n_{{ counted }}_at_period_end')
        {{- ',' if not (loop.last and outer.last) }}
        {%- endfor %}
        {%- endfor %}
    ) as judged (measure, period_grain, period_measure)
{%- endmacro %}
