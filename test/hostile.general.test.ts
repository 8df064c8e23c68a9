import { hostileSuite } from "./helpers/hostile.js";

hostileSuite("hostile inputs: configs and requests", 4341, [
  {
    name: "a malformed database URL with a password",
    item: 0,
    arrange: (t) => t.config((c) => (c.database = "postgres://user:s3cret@:notaport/db")),
    act: (t) => t.cli(["run", "--to", "2.0.0"]),
    exit: 2,
    code: "E_CONFIG",
    check: (_t, o) => {
      if ((o.stdout + o.stderr).includes("s3cret")) throw new Error("the password reached the output");
    },
  },
]);
