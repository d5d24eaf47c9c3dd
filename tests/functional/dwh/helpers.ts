import dwhConfig from '#config/dwh'
import { BigQuerySink } from '#integrations/bigquery/sink'
import { OutboxShipper, type ShippingOptions } from '#services/dwh/shipper'
import { FakeBigQueryServer } from '#tests/fakes/bigquery_server'

export const PROJECT = 'vgen-test'
export const DATASET = 'analytics_test'

/** The real BigQuery client pointed at a fake server, as BIGQUERY_API_ENDPOINT does. */
export function sinkFor(
  fake: FakeBigQueryServer,
  extra: Partial<ConstructorParameters<typeof BigQuerySink>[0]> = {}
) {
  return new BigQuerySink({
    projectId: PROJECT,
    dataset: DATASET,
    location: 'EU',
    apiEndpoint: fake.url,
    ...extra,
  })
}

export function shipperFor(sink: BigQuerySink, options: Partial<ShippingOptions> = {}) {
  return new OutboxShipper(sink, { ...dwhConfig.shipping, ...options })
}

/** A fake BigQuery with the dataset and tables created by our own setup. */
export async function readyFake() {
  const fake = await new FakeBigQueryServer().start()
  await sinkFor(fake).setup()
  return fake
}
