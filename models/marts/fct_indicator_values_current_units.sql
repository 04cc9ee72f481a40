-- Indicator history re-based on today's units: the values of every unit that today's unit took
-- over whole (int_unit_lineage) summed by numerator and denominator, per period, indicator,
-- dimension and source. Provinces and agencies are exact (Bình Phước's counts inside Đồng Nai
-- 75). A commune is exact where the crosswalk makes it so: a new commune that received part
-- of a split commune has no re-based figure before 1 July 2025 (flagged, never apportioned).
-- Districts were abolished: their history lives on in their provinces. A value that cannot be
-- summed (a rate reported without counts, a score) carries over only from a single
-- predecessor; where several units stand behind today's unit it is left empty and flagged.

with

assessed as (

    -- the periods this run computes, and those their change columns read
    select * from {{ ref('int_indicator_values__assessed') }}
    where {{ period_in('period', periods_to_read()) }}

),

catalogue as (

    select
        indicator_code,
        unit as indicator_unit,
        direction,
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

current_lineage as (

    select
        unit_key,
        later_unit_key as current_unit_key
    from {{ ref('int_unit_lineage') }}
    where is_current

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

periods as (

    select
        period,
        period_year,
        previous_period,
        same_period_previous_year
    from {{ ref('int_periods') }}

),

rows_to_rebase as (

    select
        a.*,
        l.current_unit_key,
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
        indicator_code,
        dimension,
        source,
        max(as_of) as as_of,
        count(*) as n_rows,
        count(*) filter (where is_additive) as n_additive,
        sum(numerator) filter (where is_additive) as summed_numerator,
        sum(denominator) filter (where is_additive) as summed_denominator,
        any_value(numerator) as single_numerator,
        any_value(denominator) as single_denominator,
        any_value(value) as single_value,
        any_value(reported_value) as single_reported_value,
        any_value(has_counts) as single_has_counts,
        any_value(published_rank) as single_published_rank,
        any_value(published_ranked_of) as single_published_ranked_of,
        any_value(source_file) as single_source_file,
        any_value(source_load_id) as single_source_load_id,
        any_value(source_row_number) as single_source_row_number,
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

    -- the units behind today's unit that existed in the period (at its end for snapshots)
    select
        g.current_unit_key,
        g.period,
        g.indicator_code,
        g.dimension,
        g.source,
        count(u.unit_key) as rebase_units_expected
    from grouped as g
    inner join catalogue as c on g.indicator_code = c.indicator_code
    inner join current_lineage as l on g.current_unit_key = l.current_unit_key
    inner join units as u
        on l.unit_key = u.unit_key
            and (
                (c.time_aggregation = 'sum' and g.period_end >= u.valid_from and g.period_start <= u.valid_to)
                or (c.time_aggregation = 'snapshot' and g.period_end between u.valid_from and u.valid_to)
            )
    group by all

),

rebased as (

    select
        g.*,
        cu.unit_code,
        cu.valid_from as unit_valid_from,
        cu.unit_level,
        c.indicator_unit,
        c.direction,
        p.period_year,
        p.previous_period,
        p.same_period_previous_year,
        coalesce(e.rebase_units_expected, 0) as rebase_units_expected,
        g.n_rows as rebase_units_contributing,
        (
            cu.unit_key in (select s.unit_key from split_receivers as s)
            and g.period_start < cast('{{ var("reform_date") }}' as date)
        ) as is_split_receiver,
        g.n_rows = 1 and coalesce(e.rebase_units_expected, 0) <= 1 as is_carry_over
    from grouped as g
    inner join units as cu on g.current_unit_key = cu.unit_key
    inner join catalogue as c on g.indicator_code = c.indicator_code
    inner join periods as p on g.period = p.period
    left join expected as e
        on g.current_unit_key = e.current_unit_key
            and g.period = e.period
            and g.indicator_code = e.indicator_code
            and g.dimension = e.dimension
            and g.source = e.source

),

figured as (

    select
        *,
        case
            when is_split_receiver then 'not_exact_commune_split'
            when is_carry_over then 'exact'
            when n_additive < n_rows then 'not_summable'
            when source <> 'computed' and rebase_units_contributing < rebase_units_expected
                then 'incomplete'
            else 'exact'
        end as rebase_status
    from rebased

),

valued as (

    select
        f.*,
        case
            when f.rebase_status in ('not_exact_commune_split', 'not_summable') then null
            when f.is_carry_over then f.single_numerator
            else f.summed_numerator
        end as numerator,
        case
            when f.rebase_status in ('not_exact_commune_split', 'not_summable') then null
            when f.is_carry_over then f.single_denominator
            else f.summed_denominator
        end as denominator,
        case
            when f.rebase_status in ('not_exact_commune_split', 'not_summable') then null
            when f.is_carry_over then f.single_value
            else {{ indicator_value('f.indicator_unit', 'f.summed_numerator', 'f.summed_denominator') }}
        end as value,
        {{ seed_target() }} as target,
        {{ seed_target_source() }} as target_source
    from figured as f
    {{ join_seed_targets('f.unit_code', 'f.unit_level', 'f.period_year', 'f.indicator_code') }}

),

indicator_values as (

    select
        current_unit_key as unit_key,
        unit_code,
        unit_valid_from,
        unit_level,
        period,
        period_grain,
        period_start,
        period_end,
        period_year,
        previous_period,
        same_period_previous_year,
        as_of,
        indicator_code,
        indicator_unit,
        direction,
        dimension,
        numerator,
        denominator,
        value,
        case when is_carry_over then single_reported_value end as reported_value,
        case when is_carry_over then single_has_counts else value is not null end as has_counts,
        target,
        target_source,
        {{ attainment('value', 'target', 'direction') }} as attainment,
        source,
        row_number() over (
            partition by current_unit_key, period, indicator_code, dimension
            order by case source when 'computed' then 1 when 'reported' then 2 else 3 end
        ) = 1 as is_headline,
        rollup_units_contributing,
        rollup_units_rate_only,
        rollup_units_expected,
        rollup_is_complete,
        rollup_child_levels,
        case when is_carry_over then single_published_rank end as published_rank,
        case when is_carry_over then single_published_ranked_of end as published_ranked_of,
        case when is_carry_over then single_source_file end as source_file,
        case when is_carry_over then single_source_load_id end as source_load_id,
        case when is_carry_over then single_source_row_number end as source_row_number,
        rebase_status,
        rebase_source_units,
        rebase_units_contributing,
        rebase_units_expected,
        -- today's units all exist: ranked among them in every period, where re-based exactly
        rebase_status = 'exact' as is_rankable
    from valued

),

{{ change_and_rank('indicator_values') }}
