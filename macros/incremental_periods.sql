{#-
    The incremental unit × period models (see docs/design.md, "The unit × period models").

    The indicator and 766 models hold one row per unit, period (month, quarter, half-year,
    year) and indicator or component. A new month of dossiers changes a few periods; rebuilding
    every period on every run costs the same whatever arrived. So these models (strategy
    `replace_periods`) compute and write only the periods that can have changed:

    1. int_period_inputs__changes fingerprints, on every run, everything these models read from
       outside their own chain: the monthly dossier tables month by month, every other input
       (submissions, tasks, units, calendar, seeds) as a whole, and records a change row for
       each fingerprint that differs from the last one it recorded.
    2. Each model keeps a watermark (the newest change it has taken in, and a hash of its own
       code and of the ephemeral models and views it reads: `period_chain_reads`) in
       `period_watermarks`, beside the change log, written by its post-hook in the same
       transaction as its rows.
    3. A run of the model takes the changes after its watermark. A change to a whole input, a
       change to the model's code, or no watermark means every period. Otherwise the changed
       months give the periods that hold them, and the periods whose change columns read those
       (the next period of the same grain, the same period a year later).
    4. The model computes as before, keeps only those periods' rows, and the strategy deletes
       and inserts them: each period is written whole (ranks are within a period, and the
       change columns read periods the model has as inputs), so the rows equal a full
       rebuild's. The two marts with change columns read only the periods they compute and
       those they compare with (`periods_to_read`).

    A model takes changes only as far as every chain model it reads has taken them in, so a
    run that selects part of the chain leaves nothing behind: what its parents have not taken
    in waits for a later run.
-#}

{#- The models of the chain: `meta.period_chain` (dbt_project.yml). -#}
{% macro is_period_chain_node(node) -%}
    {{ return(node.resource_type == 'model' and node.config.get('meta', {}).get('period_chain', false)) }}
{%- endmacro %}


{#- What a model of the chain reads of the chain, and the code it runs: {'parents': the chain
    models it reads, 'code': its SQL and that of the views it reads}. A view (or an ephemeral
    model) runs inside its reader's query, so the reader is followed through it: its code is
    part of the reader's (a change to it recomputes every period of the reader), and the chain
    models it reads are the reader's parents. -#}
{% macro period_chain_reads(node, reads=none) -%}
    {%- set reads = reads if reads is not none else {'parents': [], 'code': [node.raw_code]} -%}
    {%- for parent_id in node.depends_on.nodes -%}
        {%- set parent = graph.nodes.get(parent_id) -%}
        {%- if parent is none or parent.resource_type != 'model' -%}
            {#- a seed or a source: an input from outside, in the change log -#}
        {%- elif is_period_chain_node(parent) -%}
            {%- if (parent.alias or parent.name) not in reads.parents -%}
                {%- do reads.parents.append(parent.alias or parent.name) -%}
            {%- endif -%}
        {%- elif parent.config.materialized in ['view', 'ephemeral'] and parent.raw_code not in reads.code -%}
            {%- do reads.code.append(parent.raw_code) -%}
            {%- do period_chain_reads(parent, reads) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(reads) }}
{%- endmacro %}


{#- The hash of the code a model of the chain runs (its watermark's code_hash). -#}
{% macro period_code_hash() -%}
    {{ return(local_md5(period_chain_reads(model)['code'] | join('\n'))) }}
{%- endmacro %}


{#- Where the watermarks live: beside the change log. -#}
{% macro period_watermarks_relation(log=none) -%}
    {%- set log = log if log is not none else ref('int_period_inputs__changes') -%}
    {{ return(api.Relation.create(database=log.database, schema=log.schema, identifier='period_watermarks')) }}
{%- endmacro %}


{#- The id of this dbt invocation's changes: its start, in microseconds (grows from run to
    run, also across a full refresh of the change log). -#}
{% macro period_change_id() -%}
    {{ return((run_started_at.timestamp() * 1000000) | int) }}
{%- endmacro %}


{#- What the current model does in this run: {'periods': [...] or none for every period,
    'through': the newest change it takes in, 'why': a word for the log}. The same answer
    every time it is asked within the model's run (nothing it reads is written meanwhile). -#}
{% macro period_refresh_state() -%}
    {%- if model.resource_type == 'unit_test' -%}
        {#- a unit test gives the model's inputs, not the log: every period of them -#}
        {{ return({'periods': none, 'through': 0, 'why': 'unit test'}) }}
    {%- endif -%}
    {%- set log = ref('int_period_inputs__changes') -%}
    {%- set calendar = ref('int_periods') -%}
    {%- if not execute -%}
        {{ return({'periods': none, 'through': 0, 'why': 'parse'}) }}
    {%- endif -%}
    {%- if adapter.get_relation(database=log.database, schema=log.schema, identifier=log.identifier) is none -%}
        {#- nothing built yet (`de06 dbt compile` on a fresh home): the SQL of a full build -#}
        {{ return({'periods': none, 'through': 0, 'why': 'no change log yet'}) }}
    {%- endif -%}
    {%- set marks = period_watermarks_relation() -%}
    {%- set marks_exist = adapter.get_relation(database=marks.database, schema=marks.schema, identifier=marks.identifier) is not none -%}
    {%- set parents = period_chain_reads(model)['parents'] -%}
    {#- as far as the log goes, and no further than every chain parent has gone -#}
    {%- set query -%}
        select
            (select coalesce(max(change_id), 0) from {{ log }}) as newest
        {%- if marks_exist %},
            (select min(through) from (
                select max(through) as through from {{ marks }}
                where model in ('{{ parents | join("', '") }}') group by model
            )) as parents_through,
            (select count(distinct model) from {{ marks }} where model in ('{{ parents | join("', '") }}')) as parents_marked,
            (select max(through) from {{ marks }} where model = '{{ this.identifier }}') as mine,
            (select max_by(code_hash, recorded_at) from {{ marks }} where model = '{{ this.identifier }}') as code_hash
        {%- endif %}
    {%- endset -%}
    {%- set row = run_query_once(query).rows[0] -%}
    {%- set through = row[0] -%}
    {%- if marks_exist and parents and row[2] == parents | length -%}
        {%- set through = [through, row[1]] | min -%}
    {%- endif -%}
    {%- set state = {'through': through | int} -%}
    {%- if not is_incremental() -%}
        {%- do state.update({'periods': none, 'why': 'full build'}) -%}
    {%- elif not marks_exist or row[3] is none -%}
        {%- do state.update({'periods': none, 'why': 'no watermark'}) -%}
    {%- elif row[4] != period_code_hash() -%}
        {%- do state.update({'periods': none, 'why': 'the model changed'}) -%}
    {%- else -%}
        {%- set changed -%}
            select distinct month from {{ log }}
            where change_id > {{ row[3] | int }} and change_id <= {{ state['through'] }}
        {%- endset -%}
        {%- set whole_inputs = run_query_once('select count(*) from (' ~ changed ~ ') where month is null').rows[0][0] -%}
        {%- if whole_inputs > 0 -%}
            {%- do state.update({'periods': none, 'why': 'an input changed as a whole'}) -%}
        {%- else -%}
            {%- set periods_query -%}
                with periods as (
                    select p.period
                    from {{ calendar }} as p
                    inner join ({{ changed }}) as c on c.month between p.period_start and p.period_end
                )
                select period from periods
                union
                select later.period from {{ calendar }} as later
                where later.previous_period in (select period from periods)
                    or later.same_period_previous_year in (select period from periods)
                order by 1
            {%- endset -%}
            {%- set periods = [] -%}
            {%- for found in run_query_once(periods_query).rows -%}
                {%- do periods.append(found[0] | string) -%}
            {%- endfor -%}
            {%- do state.update({'periods': periods, 'why': 'changed months'}) -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(state) }}
{%- endmacro %}


{#- The periods this run of the current model computes, or none for every period. -#}
{% macro periods_to_refresh() -%}
    {{ return(period_refresh_state()['periods']) }}
{%- endmacro %}


{#- The periods this run of the current model reads to compute them: those, with the periods
    their change columns compare with (the previous period, the same period a year earlier);
    none for every period. -#}
{% macro periods_to_read() -%}
    {%- set periods = periods_to_refresh() -%}
    {%- if periods is none or not periods -%}
        {{ return(periods) }}
    {%- endif -%}
    {%- set query -%}
        select distinct read from (
            select {{ unnest_array(array_of(['period', 'previous_period', 'same_period_previous_year'])) }} as read
            from {{ ref('int_periods') }}
            where {{ period_in('period', periods) }}
        )
        where read is not null
        order by 1
    {%- endset -%}
    {{ return(run_query_once(query).columns[0].values() | map('string') | list) }}
{%- endmacro %}


{#- periods as SQL string literals: '2025-01', '2025-Q1' -#}
{% macro period_literals(periods) -%}
    {%- for period in periods %}'{{ period }}'{{ ', ' if not loop.last }}{% endfor -%}
{%- endmacro %}


{#- `column in ('...', ...)`; true for every period (none), false for none at all ([]) -#}
{% macro period_in(column, periods) -%}
    {%- if periods is none -%}
        true
    {%- elif periods -%}
        {{ column }} in ({{ period_literals(periods) }})
    {%- else -%}
        false
    {%- endif -%}
{%- endmacro %}


{#- The filter a model of the chain puts on its final rows. -#}
{% macro in_periods_to_refresh(column='period') -%}
    {{ period_in(column, periods_to_refresh()) }}
{%- endmacro %}


{#- Post-hook of the change log: the watermarks' table (made here, once, not by the chain's
    models, which run two at a time). On DuckDB a row per model, replaced by each run; on Spark
    (no update without Delta) a row per run of a model, appended: the newest counts (`through`
    only grows, and `period_refresh_state` reads the table either way). -#}
{% macro create_period_watermarks() -%}
    {{ return(adapter.dispatch('create_period_watermarks', 'de06')()) }}
{%- endmacro %}
{% macro default__create_period_watermarks() -%}
    create table if not exists {{ period_watermarks_relation(this) }} (
        model varchar primary key,
        through bigint not null,
        code_hash varchar not null,
        recorded_at timestamp not null,
        periods varchar[],  -- what the last run computed: null for every period
        why varchar
    )
{%- endmacro %}
{% macro spark__create_period_watermarks() -%}
    create table if not exists {{ period_watermarks_relation(this) }} (
        model string,
        through bigint,
        code_hash string,
        recorded_at timestamp,
        periods array<string>,
        why string
    )
    {#- Parquet: a Hive-format table. Two models of the chain append at once (two threads):
        an insert into a Parquet data-source table writes in the table's one `_temporary`
        folder, and the first to commit deletes it under the other; a Hive table's own insert
        (record_period_watermark asks for it) stages in a folder of its own. (A watermarks
        table made by an older version: drop it once; the next run makes it again and
        computes every period.) -#}
    {%- set file_format = config.get('file_format', 'parquet') %}
    {% if file_format == 'parquet' -%}
        stored as parquet
    {%- else -%}
        using {{ file_format }}
    {%- endif %}
{%- endmacro %}


{#- Post-hook of every model of the chain, full build or incremental: the watermark, in the
    model's own transaction. -#}
{% macro record_period_watermark() -%}
    {%- if execute -%}
        {%- set marks = period_watermarks_relation() -%}
        {%- set state = period_refresh_state() -%}
        {%- do log(this.identifier ~ ': periods ' ~ (state['periods'] | join(' ') if state['periods'] is not none else 'all')
                   ~ ' (' ~ state['why'] ~ ')', info=false) -%}
        {%- if target.type == 'spark' and config.get('file_format', 'parquet') == 'parquet' -%}
            {#- the Hive table's own insert (spark__create_period_watermarks): by default Spark
                writes a Hive Parquet table as a data-source one, in the shared `_temporary`
                (Delta and Iceberg tables take concurrent appends themselves) -#}
            {%- do run_query('set spark.sql.hive.convertInsertingUnpartitionedTable = false') -%}
        {%- endif %}
        {{ 'insert into' if target.type == 'spark' else 'insert or replace into' }} {{ marks }}
        values (
            '{{ this.identifier }}',
            {{ state['through'] }},
            '{{ period_code_hash() }}',
            cast(now() as timestamp),
            {% if state['periods'] is none %}null{% else -%}
                cast({{ array_of(state['periods'] | map('tojson') | map('replace', '"', "'") | list) }}
                    as {{ 'array<string>' if target.type == 'spark' else 'varchar[]' }})
            {%- endif %},
            '{{ state['why'] }}'
        )
    {%- endif -%}
{%- endmacro %}


{#- Incremental strategy of the chain: delete the periods this run computes, insert their rows
    (every row, when it computes every period). -#}
{% macro get_incremental_replace_periods_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ target }}
    where {{ period_in(arg_dict['unique_key'], periods_to_refresh()) }};

    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ arg_dict['temp_relation'] }}
{%- endmacro %}
