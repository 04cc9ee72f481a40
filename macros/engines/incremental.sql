{#- Incremental models on each engine (docs/spark.md, "Incremental models").

    DuckDB runs the project's own strategies: delete the months, periods or dossiers a run
    recomputes, then insert (macros/incremental_dossiers.sql, macros/incremental_periods.sql).

    dbt-spark accepts only its own strategies, and without Delta or Iceberg only `append` and
    `insert_overwrite`. There an incremental model is a table partitioned by the unit its run
    recomputes whole (`received_month`, `snapshot_month` or `period`), and a run replaces the
    partitions it computes with `insert_overwrite` (dynamic partition overwrite): the same
    months or periods, found by the same macros, as DuckDB deletes and inserts. The models
    keyed by dossier on DuckDB recompute whole months on Spark (`recomputes_whole_months`). A
    partition a run recomputes that ends up with no rows (a month whose every dossier moved to
    another) is dropped before the insert (`get_insert_overwrite_sql`), as DuckDB's delete
    clears it. The marts are tables on Spark, rebuilt from the incremental models. -#}

{#- the strategy of a model: its own on DuckDB, insert_overwrite on Spark -#}
{% macro engine_strategy(strategy) -%}
    {{ return('insert_overwrite' if target.type == 'spark' else strategy) }}
{%- endmacro %}


{#- the partition column of an incremental model on Spark (none on DuckDB, which ignores it
    anyway outside DuckLake, with a warning) -#}
{% macro engine_partition_by(column) -%}
    {{ return(column if target.type == 'spark' else none) }}
{%- endmacro %}


{#- a mart: incremental on DuckDB, a table on Spark (a partitioned Spark table puts its
    partition column last, and the marts keep their documented column order) -#}
{% macro engine_mart_materialization() -%}
    {{ return('table' if target.type == 'spark' else 'incremental') }}
{%- endmacro %}


{#- true when this run of the current model recomputes whole partitions (Spark's
    insert_overwrite) -#}
{% macro recomputes_whole_months() -%}
    {{ return(is_incremental() and config.get('incremental_strategy') == 'insert_overwrite') }}
{%- endmacro %}


{#- The partitions (as text) this incremental run of the current model replaces, or none for
    every one: the same sets the DuckDB strategies delete. -#}
{% macro partitions_to_replace() -%}
    {%- if config.meta_get('period_chain', false) -%}
        {{ return(periods_to_refresh()) }}
    {%- elif config.get('unique_key') in ['received_month', 'snapshot_month'] -%}
        {{ return(monthly_months_to_replace()) }}
    {%- elif config.meta_get('months_of_rebuilt', false) -%}
        {{ return(rebuilt_months_to_replace()) }}
    {%- elif config.meta_get('month_columns') -%}
        {{ return(pair_months_to_read()) }}
    {%- else -%}
        {{ return(dossier_months_to_replace(config.meta_require('dossier_keys'), config.meta_require('watermark_column'))) }}
    {%- endif -%}
{%- endmacro %}


{#- dbt-spark's insert_overwrite (strategies.sql), overridden by the root project: first drop
    the partitions this run replaces that it leaves with no rows (dynamic partition overwrite
    replaces only the partitions the new rows name), then overwrite the rest. One column of
    partitions. The drops run while the statement is rendered, just before it runs (a session
    connection takes one statement at a time). -#}
{% macro get_insert_overwrite_sql(source_relation, target_relation, existing_relation) %}
    {%- set partition_column = config.get('partition_by') -%}
    {%- set partition_column = partition_column[0] if partition_column is not string else partition_column -%}
    {%- set replaced = partitions_to_replace() -%}
    {%- set query -%}
        select distinct cast({{ partition_column }} as string) from {{ target_relation }}
        {%- if replaced is not none %}
        where {{ partition_text_in(partition_column, replaced) }}
        {%- endif %}
        except
        select distinct cast({{ partition_column }} as string) from {{ source_relation }}
    {%- endset -%}
    {%- for row in run_query(query).rows -%}
        {%- do log(this.identifier ~ ': dropping partition ' ~ partition_column ~ '=' ~ row[0] ~ ' (no rows left)', info=false) -%}
        {%- do run_query('alter table ' ~ target_relation ~ ' drop if exists partition ('
                         ~ partition_column ~ " = '" ~ row[0] ~ "')") -%}
    {%- endfor -%}
    {%- set dest_columns = adapter.get_columns_in_relation(target_relation) -%}
    insert overwrite table {{ target_relation }}
    {{ partition_cols(label="partition") }}
    select {{ dest_columns | map(attribute='quoted') | join(', ') }} from {{ source_relation }}
{% endmacro %}


{#- `cast(column as string) in ('...', ...)`, false for none -#}
{% macro partition_text_in(column, values) -%}
    {%- if values -%}
        cast({{ column }} as string) in ({% for value in values %}'{{ value }}'{{ ', ' if not loop.last }}{% endfor %})
    {%- else -%}
        false
    {%- endif -%}
{%- endmacro %}
