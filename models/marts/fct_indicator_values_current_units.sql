-- Indicator history on today's units, with target, attainment, change and rank: the re-based
-- figures (int_indicator_values__rebased: how each is summed, carried over or flagged) with the
-- target in force for today's unit, the headline value of each unit, period, indicator and
-- dimension (computed, else reported, else derived), and ranks among today's units in every
-- period, where the figure was re-based exactly.

with

rebased as (

    -- the periods this run computes, and those their change columns read
    select * from {{ ref('int_indicator_values__rebased') }}
    where {{ period_in('period', periods_to_read()) }}

),

targeted as (

    select
        r.*,
        {{ seed_target() }} as target,
        {{ seed_target_source() }} as target_source
    from rebased as r
    {{ join_seed_targets('r.unit_code', 'r.unit_level', 'r.period_year', 'r.indicator_code') }}

),

indicator_values as (

    select
        {{ indicator_value_row(computed={
            'attainment': attainment('value', 'target', 'direction'),
            'is_headline': headline_rank('unit_key') ~ ' = 1',
        }) | indent(8) }},
        rebase_status,
        rebase_source_units,
        rebase_units_contributing,
        rebase_units_expected,
        -- today's units all exist: ranked among them in every period, where re-based exactly
        rebase_status = 'exact' as is_rankable
    from targeted

),

{{ change_and_rank('indicator_values') }}
