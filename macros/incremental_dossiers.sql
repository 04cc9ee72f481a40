{#-
    The incremental dossier path (see docs/design.md, "Incremental refreshes").

    A run recomputes the dossiers with a version loaded since the model last ran (raw load ids
    only grow), plus, when asked, every dossier received in a range of months: Dagster's monthly
    partitions pass the range as the vars dossier_months_from / dossier_months_to
    ('YYYY-MM-01', inclusive). A month is recomputed whole, from every dossier it holds now.
-#}

{% macro dossier_month_range() -%}
    {%- set first = var('dossier_months_from', none) -%}
    {%- set last = var('dossier_months_to', first) -%}
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


{#- the newest raw load this model has taken in (-1 when empty) -#}
{% macro dossier_watermark(column='last_load_id') -%}
    (select coalesce(max({{ column }}), -1) from {{ this }})
{%- endmacro %}


{#- the keys of the dossiers this run recomputes -#}
{% macro changed_dossiers(keys, watermark_column='last_load_id') -%}
    select distinct {{ keys | join(', ') }}
    from {{ ref('stg_dossier_feed__dossier_versions') }}
    where load_id > {{ dossier_watermark(watermark_column) }}
        or {{ in_dossier_month_range('received_at') }}
{%- endmacro %}


{#- the months those dossiers were received in, by any of their versions: a corrected received
    date moves a dossier out of its old month, which must be recomputed too -#}
{% macro changed_dossier_months(keys, watermark_column='last_load_id') -%}
    select distinct cast(date_trunc('month', all_versions.received_at) as date) as received_month
    from {{ ref('stg_dossier_feed__dossier_versions') }} as all_versions
    semi join ({{ changed_dossiers(keys, watermark_column) }}) as changed
        using ({{ keys | join(', ') }})
{%- endmacro %}


{#- Incremental strategy for the monthly dossier counts: delete every changed month, then insert
    its new rows. Unlike delete+insert on the month it also clears a month left with no
    dossiers. The model sets `dossier_keys` (how a dossier is identified in its input). -#}
{% macro get_incremental_replace_months_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ target }}
    where {{ arg_dict['unique_key'] }} in (
        {{ changed_dossier_months(config.require('dossier_keys')) }}
    );

    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ arg_dict['temp_relation'] }}
{%- endmacro %}
