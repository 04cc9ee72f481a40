-- The change log of the unit × period models' inputs (macros/incremental_periods.sql): on
-- every run, a fingerprint (row count and a sum of row hashes) of everything those models read
-- from outside their own chain — the monthly dossier tables month by month, the portal's 766
-- export by its period's first month, every other input as a whole — and a row for each
-- fingerprint that differs from the last one recorded (a month that disappeared gets a row
-- with no fingerprint). Each run's rows share one change id, the
-- run's start in microseconds. A model of the chain then computes only the periods holding a
-- changed month, or every period when a whole input changed.
-- tests/python/test_incremental_periods.py checks that this list is every outside input of
-- the chain.

{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        post_hook="{{ create_period_watermarks() }}",
    )
}}

{#- the portal's 766 export goes by the first month of its period: a month, quarter or year of
    it changes the periods holding that month, its own among them -#}
{%- set by_month = [
    ('int_dossier_measures__monthly', 'received_month'),
    ('int_dossier_reconciliation__monthly', 'received_month'),
    ('int_dossier_backlog__month_ends', 'snapshot_month'),
    ('int_index_766__published', 'period_start'),
] %}

{%- set whole = [
    'int_periods',
    'int_units',
    'int_unit_lineage',
    'int_indicator_values__submissions',
    'int_indicator_values__tasks',
    'int_indicator_values__rollups',
    'indicators',
    'indicator_targets',
    'index_766_components',
    'index_766_bands',
    'index_766_composite_terms',
    'index_766_difference_reasons',
    'admin_commune_crosswalk_2025',
] %}

with

fingerprints as (

    {% for name, month in by_month %}
        select
            '{{ name }}' as input,
            cast({{ month }} as date) as month,
            count(*) as n_rows,
            {{ rows_fingerprint('t') }} as fingerprint  -- t: the whole row
        from {{ ref(name) }} as t  -- noqa: AL05
        group by all

        union all

    {% endfor -%}
    {% for name in whole %}
        select
            '{{ name }}' as input,
            null::date as month,
            count(*) as n_rows,
            {{ rows_fingerprint('t') }} as fingerprint
        from {{ ref(name) }} as t  -- noqa: AL05

        union all

    {% endfor -%}
    -- the project variables the chain's code reads
    select
        'vars' as input,
        null::date as month,
        1 as n_rows,
        {{ values_fingerprint([
            "'" ~ var("reform_date") ~ "'", "'" ~ var("history_start") ~ "'"
        ]) }} as fingerprint

)

{%- if is_incremental() %}

, last_recorded as (

    select
        input,
        month,
        n_rows,
        fingerprint
    from {{ this }}
    qualify row_number() over (partition by input, month order by change_id desc) = 1

)

select
    coalesce(f.input, r.input) as input,
    coalesce(f.month, r.month) as month,
    f.n_rows,
    f.fingerprint,
    {{ period_change_id() }}::bigint as change_id
from fingerprints as f
full outer join last_recorded as r
    on f.input = r.input and f.month is not distinct from r.month
where f.n_rows is distinct from r.n_rows
    or f.fingerprint is distinct from r.fingerprint

{%- else %}

    select
        input,
        month,
        n_rows,
        fingerprint,
        {{ period_change_id() }}::bigint as change_id
    from fingerprints

{%- endif %}
