// The page layout on narrow screens: the header's menu folds behind its button, and a table wider
// than the screen scrolls inside its own box, which takes the keyboard focus so that it can be
// scrolled without a mouse. Without this script the menu stays open and the page still works.
(function () {
  "use strict";

  function foldMenu() {
    var header = document.querySelector("body > header");
    var button = header && header.querySelector(".menu-button");
    if (!button) {
      return;
    }
    header.classList.add("js-menu");
    button.addEventListener("click", function () {
      var open = header.classList.toggle("menu-open");
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && header.classList.contains("menu-open")) {
        header.classList.remove("menu-open");
        button.setAttribute("aria-expanded", "false");
        button.focus();
      }
    });
  }

  function boxTables() {
    var boxes = [];
    document.querySelectorAll("main table").forEach(function (table) {
      var box = table.parentElement;
      if (!box.classList.contains("scroll")) {
        box = document.createElement("div");
        box.className = "scroll";
        table.parentNode.insertBefore(box, table);
        box.appendChild(table);
      }
      boxes.push(box);
    });
    function focusable() {
      boxes.forEach(function (box) {
        if (box.scrollWidth > box.clientWidth) {
          box.setAttribute("tabindex", "0");
        } else {
          box.removeAttribute("tabindex");
        }
      });
    }
    focusable();
    window.addEventListener("resize", focusable);
  }

  foldMenu();
  boxTables();
})();
