import { describeEachStore } from "./helpers";
import { storeConformance } from "./store-conformance";

describeEachStore("SessionStore conformance", storeConformance);
