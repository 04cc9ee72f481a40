{#-
    The incremental dossier path (see docs/design.md, "Incremental refreshes").

    A run recomputes the dossiers with a version loaded since the model last ran (raw load ids
    only grow), plus, when asked, every dossier received in a range of months: Dagster's monthly
    partitions pass the range in the environment (DE06_DOSSIER_MONTHS_FROM / _TO), a dbt
    command line as the vars dossier_months_from / dossier_months_to ('YYYY-MM-01', inclusive).
    A month is recomputed whole, from every dossier it holds now.

    What makes a run proportional to the new data: the ingest marks each version a load replaces
    (raw.dossiers._superseded_by_load_id), so the months a run touches are found by filters on
    raw (versions loaded after the watermark, versions replaced since), not by joining the
    changed dossiers against every version; and they are written into the SQL as literals, so
    DuckDB skips the row groups of every other month when it reads or deletes.
-#}

{% macro dossier_month_range() -%}
    {%- set first = var('dossier_months_from', none) -%}
    {%- set last = var('dossier_months_to', first) -%}
    {#- Dagster passes its range in the environment instead: a change of --vars makes dbt parse
        the whole project again (about 8 s a run), an environment variable read only while a
        model runs does not -#}
    {%- if first is none -%}
        {%- set first = env_var('DE06_DOSSIER_MONTHS_FROM', '') or none -%}
        {%- set last = env_var('DE06_DOSSIER_MONTHS_TO', '') or first -%}
    {%- endif -%}
    {%- if first is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set bounds = [] -%}
    {%- for value in [first, last] -%}
        {%- set day = modules.datetime.date.fromisoformat(value | string) if (value | string) | length == 10 else none -%}
        {%- if day is none or day.day != 1 -%}
            {{ exceptions.raise_compiler_error(
                "vars dossier_months_from / dossier_months_to must be first days of months "
                ~ "as 'YYYY-MM-01', got '" ~ value ~ "'") }}
        {%- endif -%}
        {%- do bounds.append(day.isoformat()) -%}
    {%- endfor -%}
    {{ return(bounds) }}
{%- endmacro %}


{#- true for a timestamp in the run's month range; false when the run asks for none -#}
{% macro in_dossier_month_range(column) -%}
    {%- set bounds = dossier_month_range() -%}
    {%- if bounds -%}
        ({{ column }} >= timestamp '{{ bounds[0] }}' and {{ column }} < timestamp '{{ bounds[1] }}' + interval 1 month)
    {%- else -%}
        false
    {%- endif -%}
{%- endmacro %}


{#- the newest raw load this model has taken in (-1 when empty), as a literal when the run
    executes, so that `load_id > watermark` skips the row groups of older loads -#}
{% macro dossier_watermark(column='last_load_id') -%}
    {%- if execute and is_incremental() -%}
        {%- set found = run_query_once('select coalesce(max(' ~ column ~ '), -1) from ' ~ this) -%}
        {{- found.columns[0].values()[0] | int -}}
    {%- else -%}
        (select coalesce(max({{ column }}), -1) from {{ this }})
    {%- endif -%}
{%- endmacro %}


{#- the keys of the dossiers this run recomputes -#}
{% macro changed_dossiers(keys, watermark_column='last_load_id') -%}
    select distinct {{ keys | join(', ') }}
    from {{ ref('stg_dossier_feed__dossier_versions') }}
    where load_id > {{ dossier_watermark(watermark_column) }}
        or {{ in_dossier_month_range('received_at') }}
{%- endmacro %}


{#- the months those dossiers were received in, by any of their versions: a corrected received
    date moves a dossier out of its old month, which must be recomputed too. A join against
    every version: used only for a run's month range (the marks cover the rest). -#}
{% macro changed_dossier_months(keys, watermark_column='last_load_id') -%}
    select distinct cast(date_trunc('month', all_versions.received_at) as date) as received_month
    from {{ ref('stg_dossier_feed__dossier_versions') }} as all_versions
    semi join ({{ changed_dossiers(keys, watermark_column) }}) as changed
        using ({{ keys | join(', ') }})
{%- endmacro %}


{#- The months (first days, as 'YYYY-MM-DD' strings) a run must recompute, found when it
    executes. Every dossier whose current version changed since the model's watermark has its
    new current version among the versions loaded after the watermark, and its old one among
    the versions replaced by those loads; so the months of those two sets hold every row that
    goes and every row that comes. `also` adds a query's months (its one column); a run with a
    month range adds the range's dossiers by any of their versions. -#}
{% macro dossier_months_to_replace(keys, watermark_column='last_load_id', also=none) -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set watermark = dossier_watermark(watermark_column) -%}
    {%- set versions = ref('stg_dossier_feed__dossier_versions') -%}
    {%- set query -%}
        select cast(date_trunc('month', received_at) as date) from {{ versions }}
        where load_id > {{ watermark }}
        union
        select cast(date_trunc('month', received_at) as date) from {{ versions }}
        where superseded_by_load_id > {{ watermark }}
        {%- if also %}
        union
        {{ also }}
        {%- endif %}
        {%- if dossier_month_range() %}
        union
        {{ changed_dossier_months(keys, watermark_column) }}
        {%- endif %}
    {%- endset -%}
    {{ return(query_months(query)) }}
{%- endmacro %}


{#- the months a query's one column names, as sorted 'YYYY-MM-DD' strings (nulls left out) -#}
{% macro query_months(query) -%}
    {%- set months = [] -%}
    {%- for value in run_query_once(query).columns[0].values() -%}
        {%- if value is not none and (value | string) not in months -%}
            {%- do months.append(value | string) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(months | sort) }}
{%- endmacro %}


{#- `column in (date '...', ...)`, or false for no months -#}
{% macro month_in(column, months) -%}
    {%- if months -%}
        {{ column }} in ({% for month in months %}date '{{ month }}'{{ ', ' if not loop.last }}{% endfor %})
    {%- else -%}
        false
    {%- endif -%}
{%- endmacro %}


{#- The months a run of a monthly model (the counts, the reconciliation) replaces: its model
    sets in its `meta` `dossier_keys` (how a dossier is identified in its input) and, for the
    reconciliation, `months_of_pairs`: a pair counts in its provincial month, else its portal month, so a pair
    whose portal side alone changed moves nothing in the versions' months, and one that gains
    a provincial side leaves its portal month. The re-paired rows (newer than the watermark)
    name both months; the old pair's month is among them or among the versions' months. -#}
{% macro monthly_months_to_replace() -%}
    {%- if config.meta_get('months_of_backlog', false) -%}
        {{ return(backlog_months_to_replace()) }}
    {%- endif -%}
    {%- set also = none -%}
    {%- if config.meta_get('months_of_pairs', false) -%}
        {%- set pairs = ref('int_dossier_reconciliation__pairs') -%}
        {%- set watermark = dossier_watermark() -%}
        {%- set also -%}
            select received_month from {{ pairs }} where last_load_id > {{ watermark }}
            union
            select portal_received_month from {{ pairs }} where last_load_id > {{ watermark }}
        {%- endset -%}
    {%- endif -%}
    {{ return(dossier_months_to_replace(config.meta_require('dossier_keys'), also=also)) }}
{%- endmacro %}


{#- Incremental strategy for the monthly models: delete every changed month, then insert its
    new rows. Unlike delete+insert on the month it also clears a month left with no
    dossiers. -#}
{% macro get_incremental_replace_months_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ target }}
    where {{ month_in(arg_dict['unique_key'], monthly_months_to_replace()) }};

    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ arg_dict['temp_relation'] }}
{%- endmacro %}


{#- Incremental strategy for the dossier-level models: delete+insert on `unique_key`, with the
    delete limited to the months the replaced rows can be in (`dossier_months_to_replace`, and
    the months of the new rows), so it reads those months' row groups, not the whole table.
    With a month range (a row may be recomputed with nothing new) every month is searched. The
    model sets in its `meta` `dossier_keys` and `watermark_column`; its month column is
    `received_month`, and `portal_received_month` too where it has one (`month_columns`). -#}
{% macro get_incremental_replace_dossiers_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set temp = arg_dict['temp_relation'] -%}
    {%- set keys = arg_dict['unique_key'] if arg_dict['unique_key'] is not string else [arg_dict['unique_key']] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {%- set month_columns = config.meta_get('month_columns', ['received_month']) -%}
    {%- set new_months -%}
        {%- for column in month_columns -%}
            select {{ column }} from {{ temp }}{{ ' union ' if not loop.last }}
        {%- endfor -%}
    {%- endset -%}
    {%- set months = dossier_months_to_replace(
        config.meta_require('dossier_keys'), config.meta_require('watermark_column'), also=new_months) -%}
    delete from {{ target }} as existing
    using (select distinct {{ keys | join(', ') }} from {{ temp }}) as recomputed
    where {% for key in keys %}existing.{{ key }} = recomputed.{{ key }} and {% endfor -%}
        {%- if dossier_month_range() %}true{% else %}{{ month_in('existing.received_month', months) }}{% endif %};

    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ temp }}
{%- endmacro %}


{#- When a dossier left the queue: finished, or returned / withdrawn / rejected (the version's
    update time); null while it is still being processed. `v` names the versions' relation. -#}
{% macro dossier_closed_at(v) -%}
    case
        when {{ v }}.finished_at is not null then {{ v }}.finished_at
        when {{ v }}.status in ('returned', 'withdrawn', 'rejected') then {{ v }}.updated_at
    end
{%- endmacro %}


{#- The month ends (snapshot months) a run of int_dossier_backlog__month_ends recomputes:
    1. those the feeds have passed since the model last ran (new month ends become known);
    2. those where a changed dossier's membership can differ: for the new current versions and
       the versions they replaced, the months each was overdue and open at; if the versions
       agree on where and when the dossier was received and due, only the months between
       their ends (a dossier finished late leaves the backlog from its close to the old end);
       otherwise every month of either;
    3. the months whose counts changed: their units with dossiers but none overdue get 0;
    4. every month of the dossiers int_dossiers__enriched rewrote with no new version since
       (a partitioned run's month range, after a fix to reference data): `built_at`.
    Computed with the feeds' horizons now (an old version's months beyond its own horizon are
    newly known, 1.). -#}
{% macro backlog_months_to_replace() -%}
    {%- set watermark = dossier_watermark() -%}
    {%- set versions = ref('stg_dossier_feed__dossier_versions') -%}
    {%- set backlog_months -%}
        select * from (
            with
            horizons as (
                select
                    h.source_system,
                    h.as_of as known_until,
                    max(b.snapshot_month) as last_known
                from {{ ref('int_dossier_feeds__as_of') }} as h
                left join {{ this }} as b on h.source_system = b.source_system
                group by all
            ),
            newly_known as (
                select {{ unnest_array(month_series(
                    "cast(coalesce(last_known + interval 1 month, date '" ~ var('history_start') ~ "') as date)",
                    "cast(date_trunc('month', known_until) - interval 1 month as date)"
                )) }} as snapshot_month
                from horizons
            ),
            changed_versions as (
                select * from {{ versions }}
                where load_id > {{ watermark }} and superseded_by_load_id is null
                union all
                select * from {{ versions }}
                where superseded_by_load_id > {{ watermark }}
            ),
            version_months as (
                select
                    v.source_system,
                    v.dossier_id,
                    (v.unit_code, v.agency_code, v.received_at, v.due_at) as placement,
                    date_trunc('month', greatest(v.due_at, v.received_at)) as first_month,
                    date_trunc('month', least(coalesce({{ dossier_closed_at('v') }}, h.known_until), h.known_until))
                    - interval 1 month as last_month
                from changed_versions as v
                inner join horizons as h on v.source_system = h.source_system
            ),
            -- a dossier none of whose versions was ever overdue at a month end changes none
            -- (most of a new month's): left out before the grouping
            ever_overdue as (
                select distinct source_system, dossier_id from version_months
                where last_month >= first_month
            ),
            per_dossier as (
                select
                    count(*) > 1 and count(distinct placement) = 1 as same_placement,
                    min(first_month) as first_month,
                    min(last_month) as earliest_end,
                    max(last_month) as latest_end
                from version_months
                semi join ever_overdue using (source_system, dossier_id)
                group by source_system, dossier_id
            ),
            changed as (
                select {{ unnest_array(month_series(
                    'cast(case when same_placement then earliest_end + interval 1 month else first_month end as date)',
                    'cast(latest_end as date)'
                )) }} as snapshot_month
                from per_dossier
            ),
            -- rows int_dossiers__enriched rewrote with no new version (a month range): every
            -- month of their range, as their units may have changed
            rewritten as (
                select {{ unnest_array(month_series(
                    "cast(date_trunc('month', greatest(e.due_at, e.received_at)) as date)",
                    "cast(date_trunc('month', least(coalesce(e.closed_at, h.known_until), h.known_until))"
                    ~ " - interval 1 month as date)"
                )) }} as snapshot_month
                from {{ ref('int_dossiers__backlog_candidates') }} as e
                inner join horizons as h on e.source_system = h.source_system
                where e.built_at > (
                    select coalesce(max(enriched_built_at), timestamp '1900-01-01') from {{ this }}
                )
                    and e.load_id <= {{ watermark }}
            )
            select cast(snapshot_month as date) from newly_known
            union
            select cast(snapshot_month as date) from changed
            union
            select cast(snapshot_month as date) from rewritten
        )
    {%- endset -%}
    {#- 3.: the counts' months, from the same marks -#}
    {{ return(dossier_months_to_replace(['source_system', 'dossier_id'], also=backlog_months)) }}
{%- endmacro %}


{#- SQL: a row of int_dossiers__enriched rewritten since this model's newest `built_at` (a
    literal when the run executes, so DuckDB skips the row groups written before it). -#}
{% macro rebuilt_since_watermark() -%}
    {%- if execute and is_incremental() -%}
        {%- set found = run_query_once(
            "select cast(coalesce(max(built_at), timestamp '1900-01-01') as string) from " ~ this) -%}
        built_at > timestamp '{{ found.columns[0].values()[0] }}'
    {%- else -%}
        built_at > (select coalesce(max(built_at), timestamp '1900-01-01') from {{ this }})
    {%- endif -%}
{%- endmacro %}


{#- The months int_dossiers__backlog_candidates recomputes on Spark (whole months): those
    int_dossiers__enriched rewrote since the model's newest `built_at`, and those it holds
    that enriched no longer has (a month whose every dossier moved to another). -#}
{% macro rebuilt_months_to_replace() -%}
    {%- set enriched = ref('int_dossiers__enriched') -%}
    {%- set query -%}
        select received_month from {{ enriched }} where {{ rebuilt_since_watermark() }}
        union
        (
            select received_month from {{ this }}
            except
            select received_month from {{ enriched }}
        )
    {%- endset -%}
    {{ return(query_months(query)) }}
{%- endmacro %}


{#- Incremental strategy for a model that keeps some of int_dossiers__enriched's rows
    (int_dossiers__backlog_candidates): delete every dossier enriched rewrote since the
    model's watermark, then insert those of them the model keeps. A dossier that is no longer
    kept leaves, which delete+insert on the new rows' keys would miss. -#}
{% macro get_incremental_replace_rebuilt_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set keys = arg_dict['unique_key'] if arg_dict['unique_key'] is not string else [arg_dict['unique_key']] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ target }} as existing
    using (
        select {{ keys | join(', ') }} from {{ ref('int_dossiers__enriched') }}
        where {{ rebuilt_since_watermark() }}
    ) as rebuilt
    where {% for key in keys %}existing.{{ key }} = rebuilt.{{ key }}{{ ' and ' if not loop.last }}{% endfor %};

    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ arg_dict['temp_relation'] }}
{%- endmacro %}


{#- The months int_dossier_reconciliation__pairs reads of int_dossiers__enriched in an
    incremental run, as literals (zone maps then skip every other month): the months of the
    changed versions and of the versions they replaced, and both months of the old pairs of
    the changed ids. The other side of a changed id is either changed too (its months are
    among the first), or unchanged since the last run, and then its month is named by the old
    pair. That old pair is found without looking every id up: if the id's changed side
    existed before, the version it had then was replaced by a load since, so the old pair's
    month for that side is among the first months; if it did not, the old pair lacked that
    side (not matched: about 1 pair in 100). With a month range, the first months hold every
    version of the range's dossiers, so every old pair's month. -#}
{% macro pair_months_to_read() -%}
    {%- set months = dossier_months_to_replace(['dossier_id']) -%}
    {%- set old_pairs -%}
        select {{ unnest_array(array_of(['received_month', 'portal_received_month'])) }}
        from {{ this }}
        semi join ({{ changed_dossiers(['dossier_id']) }}) as changed using (dossier_id)
        where not is_matched
            or {{ month_in('received_month', months) }}
            or {{ month_in('portal_received_month', months) }}
    {%- endset -%}
    {%- set found = months + query_months(old_pairs) -%}
    {{ return(found | unique | sort) }}
{%- endmacro %}
