// A form with data-confirm asks before it is sent (revoke, disable): one click is not enough.
document.addEventListener("submit", function (event) {
  var question = event.target.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
