/* Draws the dashboard's charts from the JSON that the page embeds (json_script "dashboard-chart-data").
   The tables on the page carry the same figures, so without JavaScript nothing is lost. */
(function () {
  "use strict";
  var source = document.getElementById("dashboard-chart-data");
  var charts = document.getElementById("dashboard-charts");
  if (!source || !charts || typeof window.Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  // A figure reads as on the rest of the site (£3,842.80); the axis is marked in whole pounds.
  var pounds = new Intl.NumberFormat("en-GB", { style: "currency", currency: "GBP", minimumFractionDigits: 2 });
  var wholePounds = new Intl.NumberFormat("en-GB", { style: "currency", currency: "GBP", maximumFractionDigits: 0 });
  var common = { responsive: true, maintainAspectRatio: false, animation: false };

  charts.classList.remove("d-none");

  new window.Chart(document.getElementById("referrals-chart"), {
    type: "bar",
    data: {
      labels: data.months,
      datasets: [{ label: "Referrals received", data: data.referrals, backgroundColor: "#1d4f6e" }]
    },
    options: Object.assign({}, common, {
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }
    })
  });

  new window.Chart(document.getElementById("money-chart"), {
    type: "bar",
    data: {
      labels: data.months,
      datasets: [
        { label: "Confirmed", data: data.confirmed, backgroundColor: "#00703c" },
        { label: "Expected", data: data.expected, backgroundColor: "#b58105" }
      ]
    },
    options: Object.assign({}, common, {
      scales: {
        x: { stacked: true },
        y: { stacked: true, beginAtZero: true, ticks: { callback: function (value) { return wholePounds.format(value); } } }
      },
      plugins: {
        tooltip: {
          callbacks: {
            label: function (item) { return item.dataset.label + ": " + pounds.format(item.parsed.y); }
          }
        }
      }
    })
  });
})();
