// The page the service worker shows for a route never visited while there is no network.
import { $, chrome } from "./ui.js";

chrome("public");
$("#retry").addEventListener("click", () => location.reload());
window.addEventListener("online", () => location.reload());
