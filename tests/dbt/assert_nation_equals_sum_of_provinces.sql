-- Roll-ups add up, for every period before and after the reorganisation (63 provinces before
-- 1 July 2025, 34 after; the year 2025 holds the old provinces' first half and the new ones'
-- second):
-- 1. computed dossier indicators: the nation's numerator and denominator equal the sums over
--    the provinces as they were;
-- 2. derived roll-ups of reported and task-register figures: the nation's sums equal the sums
--    of the provinces' figures (their own counts, else their own roll-up).
with

facts as (

    select f.*
    from {{ ref('fct_indicator_values') }} as f
    inner join {{ ref('indicators') }} as i on f.indicator_code = i.indicator_code
    where (f.source = 'computed' and i.source = 'dossiers')
        or (f.source <> 'computed' and i.rolls_up and f.has_counts)
        or (f.source = 'computed' and i.source = 'tasks')

),

province_figures as (

    select
        unit_key,
        period,
        indicator_code,
        dimension,
        case when source = 'computed' and indicator_code in (
                    select i.indicator_code from {{ ref('indicators') }} as i
                    where i.source = 'dossiers'
                ) then 'computed'
            else 'derived'
        end as nation_source,
        numerator,
        denominator
    from facts
    where unit_level = 'province'
    -- a province's figure for the roll-up: its own (reported, task register), else derived
    qualify row_number() over (
            partition by unit_key, period, indicator_code, dimension, nation_source
            order by case when source = 'derived' then 2 else 1 end
        ) = 1

),

provinces as (

    select
        period,
        indicator_code,
        dimension,
        nation_source,
        sum(numerator) as numerator,
        sum(denominator) as denominator
    from province_figures
    group by all

),

nation as (

    select
        period,
        indicator_code,
        dimension,
        source as nation_source,
        numerator,
        denominator
    from facts
    where unit_level = 'nation'

)

select
    coalesce(nation.period, provinces.period) as period,
    coalesce(nation.indicator_code, provinces.indicator_code) as indicator_code,
    coalesce(nation.dimension, provinces.dimension) as dimension,
    coalesce(nation.nation_source, provinces.nation_source) as nation_source,
    nation.numerator,
    nation.denominator,
    provinces.numerator as provinces_numerator,
    provinces.denominator as provinces_denominator
from nation
full outer join provinces
    on nation.period = provinces.period
        and nation.indicator_code = provinces.indicator_code
        and nation.dimension = provinces.dimension
        and nation.nation_source = provinces.nation_source
where
    nation.numerator is distinct from provinces.numerator
    or nation.denominator is distinct from provinces.denominator
