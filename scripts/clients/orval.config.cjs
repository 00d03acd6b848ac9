// orval's axios client from the committed spec, written where tsc compiles it.
module.exports = {
  defarm: {
    input: "../../openapi/openapi.json",
    output: { target: "./gen/orval/defarm.ts", client: "axios", mode: "single" },
  },
};
