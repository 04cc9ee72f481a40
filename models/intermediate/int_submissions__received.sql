-- What each unit sent for each period (báo cáo đã nhận), from every submission file that carried
-- rows for it: when it was first and last sent, the rows accepted and quarantined, and the
-- files. A quarantined row counts as resolved once a later file brings an accepted row for the
-- same unit, period, indicator and dimension (the unit re-sent it corrected). Whether that was
-- expected, on time or late: fct_submission_status.

with

files as (

    select
        load_id,
        file_name,
        sent_at
    from {{ ref('stg_ingest__load_files') }}

),

accepted as (

    select
        unit_code,
        period,
        indicator_code,
        dimension,
        load_id
    from {{ ref('stg_submission_feed__indicator_values') }}

),

quarantined_rows as (

    -- one per rejected row (a row can be rejected for several columns)
    select distinct
        load_id,
        source_row_number,
        unit_code,
        period,
        indicator_code,
        dimension
    from {{ ref('stg_ingest__quarantined_rows') }}
    where feed = 'submissions' and unit_code is not null and period is not null

),

quarantined as (

    -- a rejected row is resolved when a later file brought an accepted row for the same unit,
    -- period, indicator and dimension (the unit re-sent it corrected)
    select
        q.unit_code,
        q.period,
        q.load_id,
        q.source_row_number,
        bool_or(a.load_id is not null) as is_resolved
    from quarantined_rows as q
    left join accepted as a
        on q.unit_code = a.unit_code
            and q.period = a.period
            and q.indicator_code = a.indicator_code
            and q.dimension = a.dimension
            and q.load_id < a.load_id
    group by q.unit_code, q.period, q.load_id, q.source_row_number

),

submitted_rows as (

    select
        unit_code,
        period,
        load_id,
        'accepted' as row_state
    from accepted

    union all

    select
        unit_code,
        period,
        load_id,
        case when is_resolved then 'quarantined_resolved' else 'quarantined' end as row_state
    from quarantined

),

received as (

    select
        r.unit_code,
        r.period,
        min(f.sent_at) as first_sent_at,
        max(f.sent_at) as last_sent_at,
        count(*) filter (where r.row_state = 'accepted') as rows_accepted,
        count(*) filter (where r.row_state = 'quarantined') as rows_quarantined,
        count(*) filter (where r.row_state = 'quarantined_resolved') as rows_quarantined_resolved,
        {{ join_array(sorted_set_agg('f.file_name'), ', ') }} as submission_files
    from submitted_rows as r
    inner join files as f on r.load_id = f.load_id
    group by all

)

select * from received
