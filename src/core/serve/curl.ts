// The ready curl line of a deployed model (Copy curl Example, the Deployments view's hover).

/** A curl command for one example request (zeros for every feature) to the model's /predict or /infer. */
export function curlExample(url: string, model: string, features: string[] | undefined): string {
  if (features?.length) {
    const instance = Object.fromEntries(features.map((f) => [f, 0]));
    return `curl -s -X POST ${url}/v2/models/${model}/predict -H 'Content-Type: application/json' -d '${JSON.stringify({ instances: [instance] })}'`;
  }
  return `curl -s ${url}/v2/models/${model}`;
}
