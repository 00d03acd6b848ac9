// A small strict-mode program written against the types openapi-typescript generates from
// openapi/openapi.json. It is only compiled (scripts/client_checks.sh): a spec change that would
// break a typed client (a renamed field, an open type, a media type key) breaks CI.
import type { components, paths } from "./gen/openapi-typescript/defarm";

type Item = paths["/api/items/{dfid}"]["get"]["responses"][200]["content"]["application/json"];
type NewLocalItem = NonNullable<paths["/api/items/local"]["post"]["requestBody"]>["content"]["application/json"];
type ApiError = components["schemas"]["Error"];

const steer: NewLocalItem = {
  identifiers: [{ namespace: "bovino", key: "sisbov", value: "BR123456789012345" }],
  enriched_data: { breed: "Nelore", sex: "male", birth_date: "2024-03-18" },
};

/** A line for an item list: its DFID, its status, and a field of the owner's data. */
function summary(item: Item): string {
  const breed = item.enriched_data["breed"];
  const status: string = item.status;
  return `${item.dfid} (${status}) ${typeof breed === "string" ? breed : "-"}`;
}

/** Whether a failed call is worth retrying, from the error's stable code. */
function retryable(error: ApiError): boolean {
  switch (error.code) {
    case "rate_limited":
    case "service_unavailable":
    case "request_timeout":
    case "login_locked":
      return true;
    default:
      return false;
  }
}

export async function readItem(base: string, token: string, dfid: string): Promise<string> {
  const response = await fetch(`${base}/api/items/${encodeURIComponent(dfid)}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  if (!response.ok) {
    const error = (await response.json()) as ApiError;
    throw new Error(`${error.code} (${error.request_id})${retryable(error) ? ", retry later" : ""}`);
  }
  return summary((await response.json()) as Item);
}

export const example = steer;
