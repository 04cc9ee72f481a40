-- Indicator history re-based on today's units (their targets, change and rank: the mart
-- fct_indicator_values_current_units): the values of every unit that today's unit took over
-- whole (int_unit_lineage) summed by numerator and denominator, per period, indicator,
-- dimension and source. Provinces and agencies are exact (Bình Phước's counts inside Đồng Nai
-- 75). A commune is exact where the crosswalk makes it so: a new commune that received part
-- of a split commune has no re-based figure before 1 July 2025 (flagged, never apportioned).
-- Districts were abolished: their history lives on in their provinces. A value that cannot be
-- summed (a rate reported without counts, a score) carries over only from a single
-- predecessor; where several units stand behind today's unit it is left empty and flagged.

{#- a single predecessor's figure carries over as it is, with where it came from -#}
{%- set carried = ['numerator', 'denominator', 'value', 'reported_value', 'has_counts', 'published_rank',
                   'published_ranked_of', 'source_file', 'source_load_id', 'source_row_number'] %}
{%- set computed = {'unit_key': 'current_unit_key'} %}
{%- for column in carried[3:] %}
    {%- do computed.update({column: 'case when is_carry_over then single_' ~ column ~ ' end'}) %}
{%- endfor %}
{%- do computed.update({'has_counts': 'case when is_carry_over then single_has_counts else value is not null end'}) %}

with

assessed as (

    -- every period: the mart this model is compiled into keeps the periods it computes
    select * from {{ ref('int_indicator_values__assessed') }}

),

catalogue as (

    select
        indicator_code,
        rolls_up,
        time_aggregation
    from {{ ref('indicators') }}

),

units as (

    select
        unit_key,
        unit_code,
        unit_level,
        valid_from,
        coalesce(valid_to, {{ end_of_time() }}) as valid_to
    from {{ ref('int_units') }}

),

split_receivers as (

    -- new communes that received part of a split commune: not exact before the reform
    select distinct u.unit_key
    from {{ ref('admin_commune_crosswalk_2025') }} as x
    inner join units as u
        on x.new_ward_code = u.unit_code
            and u.unit_level = 'commune'
            and u.valid_from = cast('{{ var("reform_date") }}' as date)
    where x.link_type = 'partial'

),

current_lineage as (

    select
        unit_key,
        later_unit_key as current_unit_key
    from {{ ref('int_unit_lineage') }}
    where is_current

),

rows_to_rebase as (

    select
        a.*,
        l.current_unit_key,
        c.time_aggregation,
        c.rolls_up and a.has_counts as is_additive
    from assessed as a
    inner join current_lineage as l on a.unit_key = l.unit_key
    inner join catalogue as c on a.indicator_code = c.indicator_code

),

grouped as (

    select
        current_unit_key,
        period,
        period_grain,
        period_start,
        period_end,
        period_year,
        previous_period,
        same_period_previous_year,
        indicator_code,
        indicator_unit,
        direction,
        time_aggregation,
        dimension,
        source,
        max(as_of) as as_of,
        count(*) as n_rows,
        count(*) filter (where is_additive) as n_additive,
        sum(numerator) filter (where is_additive) as summed_numerator,
        sum(denominator) filter (where is_additive) as summed_denominator,
        {%- for column in carried %}
            any_value({{ column }}) as single_{{ column }},
        {%- endfor %}
        sum(rollup_units_contributing)::bigint as rollup_units_contributing,
        sum(rollup_units_rate_only)::bigint as rollup_units_rate_only,
        sum(rollup_units_expected)::bigint as rollup_units_expected,
        bool_and(rollup_is_complete) as rollup_is_complete,
        -- lists sorted once per group: DuckDB's ordered / distinct string_agg sorts inside the
        -- hash aggregate, a quarter of this model's time
        nullif({{ join_array(sorted_set_agg('rollup_child_levels'), ',') }}, '') as rollup_child_levels,
        {{ join_array(sorted_list_agg('unit_key'), ', ') }} as rebase_source_units
    from rows_to_rebase
    group by all

),

expected as (

    -- with the units behind today's unit that existed in the period (at its end for snapshots):
    -- joined on today's unit alone and counted per figure (one group a figure), so that the
    -- reader's filter on the period reaches it (counts joined back on the period kept it out)
    select
        g.*,
        count(
            case
                when (g.time_aggregation = 'sum' and g.period_end >= u.valid_from and g.period_start <= u.valid_to)
                    or (g.time_aggregation = 'snapshot' and g.period_end between u.valid_from and u.valid_to)
                    then u.unit_key
            end
        ) as rebase_units_expected
    from grouped as g
    inner join current_lineage as l on g.current_unit_key = l.current_unit_key
    inner join units as u on l.unit_key = u.unit_key
    group by all

),

rebased as (

    select
        g.*,
        cu.unit_code,
        cu.valid_from as unit_valid_from,
        cu.unit_level,
        g.n_rows as rebase_units_contributing,
        g.n_rows = 1 and g.rebase_units_expected <= 1 as is_carry_over,
        case
            when
                cu.unit_key in (select s.unit_key from split_receivers as s)
                and g.period_start < cast('{{ var("reform_date") }}' as date)
                then 'not_exact_commune_split'
            when g.n_rows = 1 and g.rebase_units_expected <= 1 then 'exact'
            when g.n_additive < g.n_rows then 'not_summable'
            when g.source <> 'computed' and g.n_rows < g.rebase_units_expected then 'incomplete'
            else 'exact'
        end as rebase_status
    from expected as g
    inner join units as cu on g.current_unit_key = cu.unit_key

),

valued as (

    -- a value split or not summable is left empty; a single predecessor's is carried over
    select
        *,
        {%- for column in ['numerator', 'denominator'] %}
            case
                when rebase_status in ('not_exact_commune_split', 'not_summable') then null
                when is_carry_over then single_{{ column }}
                else summed_{{ column }}
            end as {{ column }},
        {%- endfor %}
        case
            when rebase_status in ('not_exact_commune_split', 'not_summable') then null
            when is_carry_over then single_value
            else {{ indicator_value('indicator_unit', 'summed_numerator', 'summed_denominator') }}
        end as value
    from rebased

)

select
    {{ indicator_value_row(
        computed=computed,
        omit=['target', 'target_source', 'attainment', 'is_headline'],
    ) | indent(4) }},
    rebase_status,
    rebase_source_units,
    rebase_units_contributing,
    rebase_units_expected
from valued
